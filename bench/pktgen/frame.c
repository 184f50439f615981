// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

static uint16_t csum16(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const uint8_t *)w;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int bn_frame_udp(uint8_t *buf, size_t size, const uint8_t src_mac[6],
		 const uint8_t dst_mac[6])
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	size_t l3 = size - sizeof(*eth);

	if (size < BN_FRAME_MIN || size > BN_FRAME_MAX)
		return -EINVAL;
	memset(buf, 0, size);
	memcpy(eth->h_dest, dst_mac, 6);
	memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)l3);
	ip->saddr = htonl(0x0a010000);
	ip->daddr = htonl(0x0a020001);
	ip->check = csum16(ip, sizeof(*ip));

	udp->source = htons(1024);
	udp->dest = htons(9); /* discard */
	udp->len = htons((uint16_t)(l3 - sizeof(*ip)));
	udp->check = 0; /* optional for IPv4; the generator rewrites ports */

	for (size_t i = sizeof(*eth) + sizeof(*ip) + sizeof(*udp); i < size; i++)
		buf[i] = (uint8_t)i;
	return 0;
}

int bn_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}
