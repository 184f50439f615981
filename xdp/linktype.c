/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interface's link type: what its packets start with, for the filter
 * (libpcap DLT_) and for the pcap file header (LINKTYPE_). Read from the
 * device type (ARPHRD_, /sys/class/net/IF/type) through SIOCGIFHWADDR, which
 * answers for the caller's network namespace (/sys shows the namespace that
 * mounted it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_arp.h>

#include "xdp/internal.h"

int xp_arphrd_linktype(unsigned int arphrd, uint32_t *linktype_out, int *dlt_out,
		       char *err, size_t errlen)
{
	uint32_t lt;
	int dlt;

	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK: /* lo carries Ethernet headers (zero addresses) */
		lt = XP_LINKTYPE_ETHERNET;
		dlt = XP_DLT_EN10MB;
		break;
	/* L3 devices: the packet starts at the IP header, in XDP and TC alike */
	case ARPHRD_NONE:   /* tun (IFF_TUN), wireguard */
	case ARPHRD_TUNNEL: /* ipip */
	case ARPHRD_TUNNEL6:
	case ARPHRD_SIT:
	case ARPHRD_IPGRE:
	case ARPHRD_RAWIP:
		lt = XP_LINKTYPE_RAW;
		dlt = XP_DLT_RAW;
		break;
	default:
		xp_err(err, errlen, "link type %u (ARPHRD_) not supported: captures work on "
		       "Ethernet, loopback and raw-IP devices (tun, wireguard, ipip, sit, gre)",
		       arphrd);
		return -EOPNOTSUPP;
	}
	if (linktype_out)
		*linktype_out = lt;
	if (dlt_out)
		*dlt_out = dlt;
	return 0;
}

int xp_iface_arphrd(const char *ifname, unsigned int *arphrd, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, ret = 0;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE) {
		xp_err(err, errlen, "no or bad interface name");
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		xp_err(err, errlen, "%s: socket: %s", ifname, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		if (ret == -ENODEV)
			xp_err(err, errlen, "%s: no such interface", ifname);
		else
			xp_err(err, errlen, "%s: reading the device type: %s", ifname,
			       strerror(-ret));
		goto out;
	}
	*arphrd = ifr.ifr_hwaddr.sa_family;
out:
	close(fd);
	return ret;
}

int xp_iface_linktype(const char *ifname, uint32_t *linktype_out, int *dlt_out, char *err,
		      size_t errlen)
{
	char why[256] = "";
	unsigned int type;
	int ret;

	ret = xp_iface_arphrd(ifname, &type, err, errlen);
	if (ret)
		return ret;
	ret = xp_arphrd_linktype(type, linktype_out, dlt_out, why, sizeof(why));
	if (ret)
		xp_err(err, errlen, "%s: %s", ifname, why);
	return ret;
}
