/* SPDX-License-Identifier: BSD-2-Clause */
/* Interface facts the sockets depend on: RX queue count and MTU. */
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "afxdp/afxdp.h"

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Fallback for drivers without ETHTOOL_GCHANNELS: count queues/rx-N in sysfs. */
static int sysfs_queues(const char *ifname, unsigned int *out)
{
	char path[128];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "rx-", 3))
			n++;
	closedir(d);
	if (!n)
		return -ENOENT;
	*out = n;
	return 0;
}

int xsk_iface_queues(const char *ifname, unsigned int *out)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { .ifr_data = (void *)&ch };
	int ret;

	if (!if_nametoindex(ifname))
		return -ENODEV;
	ret = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	/* NICs report combined channels, veth reports rx_count. */
	if (!ret && ch.combined_count + ch.rx_count > 0) {
		*out = ch.combined_count + ch.rx_count;
		return 0;
	}
	if (!sysfs_queues(ifname, out))
		return 0;
	*out = 1;
	return 0;
}

int xsk_iface_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&di };
	int ret;

	ret = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (ret)
		return ret;
	snprintf(buf, len, "%.*s", (int)sizeof(di.driver), di.driver);
	return 0;
}

int xsk_check_mtu(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	unsigned int frame;
	int ret;

	ret = ifreq_ioctl(ifname, SIOCGIFMTU, &ifr);
	if (ret) {
		snprintf(err, errlen, "%s: can't read the MTU: %s", ifname, strerror(-ret));
		return ret;
	}
	frame = (unsigned int)ifr.ifr_mtu + 14 + 8; /* Ethernet + two VLAN tags */
	if (frame > XSK_MAX_FRAME) {
		snprintf(err, errlen,
			 "%s: MTU %d is too large for AF_XDP capture: a frame of up to %u bytes "
			 "must fit a %u-byte UMEM frame (largest MTU: %u); lower the MTU "
			 "(ip link set dev %s mtu %u) or use --transparent",
			 ifname, ifr.ifr_mtu, frame, XSK_MAX_FRAME, XSK_MAX_FRAME - 22, ifname,
			 XSK_MAX_FRAME - 22);
		return -EMSGSIZE;
	}
	return 0;
}
