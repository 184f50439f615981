/* SPDX-License-Identifier: BSD-2-Clause */
/* Config map, counters and facts about the interface and the clocks. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp/internal.h"

static const char *const cnt_names[CA_CNT_MAX] = {
	[CA_CNT_RX_SEEN] = "rx_seen",
	[CA_CNT_RX_MATCHED] = "rx_matched",
	[CA_CNT_RX_REDIRECTED] = "rx_redirected",
	[CA_CNT_RX_NO_XSK] = "rx_no_xsk",
	[CA_CNT_RX_META_FAIL] = "rx_meta_fail",
	[CA_CNT_RX_RB_OUT] = "rx_rb_out",
	[CA_CNT_RX_RB_FULL] = "rx_rb_full",
	[CA_CNT_TX_SEEN] = "tx_seen",
	[CA_CNT_TX_MATCHED] = "tx_matched",
	[CA_CNT_TX_RB_OUT] = "tx_rb_out",
	[CA_CNT_TX_RB_FULL] = "tx_rb_full",
};

const char *xp_counter_name(enum ca_counter c)
{
	return (unsigned int)c < CA_CNT_MAX ? cnt_names[c] : "?";
}

int xp_set_config(struct xp *x, const struct xp_config *c)
{
	struct ca_config v = { 0 };
	__u32 zero = 0;
	int ret = 0;

	if (c->snaplen > CA_SNAPLEN_MAX)
		return -EINVAL;
	v.snaplen = c->snaplen;
	v.flags = (c->ingress ? CA_CFG_INGRESS : 0) | (c->egress ? CA_CFG_EGRESS : 0) |
		  (c->transparent ? CA_CFG_TRANSPARENT : 0) | (c->ringbuf ? CA_CFG_RINGBUF : 0);
	pthread_mutex_lock(&x->lock);
	/* One 8-byte value: the programs see the old or the new config. */
	if (bpf_map_update_elem(x->map_fd[XP_MAP_CONFIG], &zero, &v, BPF_ANY))
		ret = -errno;
	else
		x->cfg = *c;
	pthread_mutex_unlock(&x->lock);
	return ret;
}

int xp_get_config(struct xp *x, struct xp_config *c)
{
	pthread_mutex_lock(&x->lock);
	*c = x->cfg;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int xp_counters(struct xp *x, uint64_t out[CA_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 i;
	int c, ret = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < CA_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(x->map_fd[XP_MAP_COUNTERS], &i, vals)) {
			ret = -errno;
			break;
		}
		out[i] = 0;
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return ret;
}

int xp_info(const struct xp *x, struct xp_info *out)
{
	*out = x->info;
	return 0;
}

int xp_xsks_fd(const struct xp *x)
{
	return x->map_fd[XP_MAP_XSKS];
}

int xp_rb_fd(const struct xp *x)
{
	return x->map_fd[XP_MAP_RB];
}

/* ethtool channels: for a process whose /sys belongs to another netns. */
static int ethtool_rx_queues(const char *ifname, unsigned int *out)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		ret = -errno;
	else
		*out = ch.rx_count + ch.combined_count;
	close(fd);
	return ret;
}

int xp_rx_queues(const char *ifname, unsigned int *out)
{
	char path[128];
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	*out = 1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir) {
		if (ethtool_rx_queues(ifname, &n) || !n)
			return -ENODEV;
		*out = n;
		return 0;
	}
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "rx-", 3))
			n++;
	closedir(dir);
	*out = n ? n : 1;
	return 0;
}

int xp_mtu(const char *ifname, unsigned int *out)
{
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		ret = -errno;
	else
		*out = ifr.ifr_mtu;
	close(fd);
	return ret;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int64_t xp_clock_offset(void)
{
	struct timespec t1, w, t2;

	/* Wall clock read between two TAI reads: their midpoint is good to
	 * about the cost of one clock read. */
	clock_gettime(CLOCK_TAI, &t1);
	clock_gettime(CLOCK_REALTIME, &w);
	clock_gettime(CLOCK_TAI, &t2);
	return ts_ns(&w) - (ts_ns(&t1) + (ts_ns(&t2) - ts_ns(&t1)) / 2);
}
