/* SPDX-License-Identifier: BSD-2-Clause */
/* Attach, detach, refusals and errors. */
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests.h"

struct xp *t_open(struct tnet *t, const char *filter, const struct xp_opts *o)
{
	struct xp_elf e;
	struct xp *x;
	char err[1024] = "";
	int ret;

	tn_elf(filter, &e);
	ret = xp_open_elf(o, &e, &x, err, sizeof(err));
	xp_elf_free(&e);
	CHECK(!ret, "xp_open_elf(%s): %d %s", filter, ret, err);
	return x;
}

void t_assert_clean(struct tnet *t)
{
	CHECK(tn_xdp_prog_id(t, NULL) == 0, "an XDP program is still attached");
	CHECK(!tn_tc_attached(t), "the TC egress filter is still there");
	CHECK(!tn_clsact_present(t), "the clsact qdisc we created is still there");
	CHECK(tn_pidfiles(t) == 0, "the pid file is still there");
}

static void one_mode(struct tnet *t, enum xp_xdp_mode mode, uint8_t want)
{
	struct xp_opts o = tn_opts(t, true, true, false, 0);
	struct xp_info info;
	char name[32] = "";
	uint8_t got;
	uint32_t id;
	struct xp *x;

	o.xdp_mode = mode;
	x = t_open(t, "udp", &o);
	xp_info(x, &info);
	id = tn_xdp_prog_id(t, &got);
	CHECK(id != 0, "no XDP program attached");
	CHECK(got == want, "attach mode %u, want %u", got, want);
	CHECK(info.xdp_native == (want == XDP_ATTACHED_DRV), "xp_info says native=%d",
	      info.xdp_native);
	CHECK(tn_tc_attached(t), "TC egress filter missing");
	CHECK(tn_pidfiles(t) == 1, "pid file missing");
	/* It is our program. */
	{
		struct bpf_prog_info pi = { 0 };
		__u32 len = sizeof(pi);
		int fd = bpf_prog_get_fd_by_id(id);

		CHECK(fd >= 0 && !bpf_obj_get_info_by_fd(fd, &pi, &len), "prog info");
		snprintf(name, sizeof(name), "%s", pi.name);
		close(fd);
	}
	CHECK(!strcmp(name, CA_XDP_PROG_NAME), "attached program is \"%s\"", name);
	xp_close(x);
	t_assert_clean(t);
}

void t_attach_modes(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp *x;
	char err[512] = "";
	struct xp_elf e;
	int ret;

	tn_up(&t, "am", 0);
	one_mode(&t, XP_XDP_NATIVE, XDP_ATTACHED_DRV);
	one_mode(&t, XP_XDP_GENERIC, XDP_ATTACHED_SKB);
	one_mode(&t, XP_XDP_AUTO, XDP_ATTACHED_DRV); /* veth has native XDP */

	/* A bridge has no native XDP: refused in native mode (nothing left
	 * behind), generic in auto mode. */
	CHECK(!tn_sh("ip -n %s link add dpabr0 type bridge && ip -n %s link set dpabr0 up",
		     t.ns_a, t.ns_a), "bridge");
	o = tn_opts(&t, true, false, false, 0);
	o.ifname = "dpabr0";
	o.xdp_mode = XP_XDP_NATIVE;
	tn_elf("udp", &e);
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(ret == -EOPNOTSUPP, "native on dummy: %d %s", ret, err);
	CHECK(strstr(err, "dpabr0"), "error names the interface: %s", err);
	CHECK(!tn_sh("! tc -n %s qdisc show dev dpabr0 | grep -q clsact", t.ns_a),
	      "clsact left on dummy after refusal");
	o.xdp_mode = XP_XDP_AUTO;
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(!ret, "auto on dummy: %d %s", ret, err);
	{
		struct xp_info info;

		xp_info(x, &info);
		CHECK(!info.xdp_native, "dummy must fall back to generic");
	}
	xp_close(x);
	xp_elf_free(&e);

	/* Jumbo MTU: native XDP (no frags support) is refused with the reason,
	 * auto mode falls back to generic. */
	CHECK(!tn_sh("ip -n %s link set %s mtu 9000 && ip -n %s link set %s mtu 9000",
		     t.ns_a, t.if_a, t.ns_b, t.if_b), "mtu 9000");
	o = tn_opts(&t, true, true, false, 0);
	o.xdp_mode = XP_XDP_NATIVE;
	tn_elf("udp", &e);
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, "MTU 9000"), "native with MTU 9000: %d %s", ret, err);
	t_assert_clean(&t);
	o.xdp_mode = XP_XDP_AUTO;
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(!ret, "auto with MTU 9000: %d %s", ret, err);
	{
		struct xp_info info;

		xp_info(x, &info);
		CHECK(!info.xdp_native && info.mtu == 9000, "native %d mtu %u", info.xdp_native,
		      info.mtu);
	}
	xp_close(x);
	xp_elf_free(&e);
	t_assert_clean(&t);
}

void t_close_clean(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp *x;

	tn_up(&t, "cc", 0);
	CHECK(!tn_clsact_present(&t), "clsact present before the test");
	o = tn_opts(&t, true, true, true, 128);
	x = t_open(&t, "all", &o);
	CHECK(tn_xdp_prog_id(&t, NULL) && tn_tc_attached(&t) && tn_clsact_present(&t),
	      "not attached");
	tn_send(&t, 9, 20, 100, 0);
	xp_close(x);
	t_assert_clean(&t);

	/* Our clsact qdisc stays while somebody else's filter (a classic BPF
	 * one: this kernel has no matchall) sits on it
	 * (egress or ingress), with that filter; without one it goes. */
	{
		static const char *const sides[] = { "egress", "ingress" };

		for (int i = 0; i < 2; i++) {
			x = t_open(&t, "all", &o);
			CHECK(!tn_sh("tc -n %s filter add dev %s %s prio 7 bpf bytecode '1,6 0 0 0,'", t.ns_a,
				     t.if_a, sides[i]),
			      "adding a foreign %s filter", sides[i]);
			xp_close(x);
			CHECK(tn_clsact_present(&t), "removed our clsact qdisc under a foreign %s "
			      "filter", sides[i]);
			CHECK(!tn_sh("tc -n %s filter show dev %s %s | grep -q bytecode", t.ns_a,
				     t.if_a, sides[i]),
			      "the foreign %s filter is gone", sides[i]);
			CHECK(!tn_tc_attached(&t) && !tn_xdp_prog_id(&t, NULL) && !tn_pidfiles(&t),
			      "left a program or the pid file");
			CHECK(!tn_sh("tc -n %s qdisc del dev %s clsact", t.ns_a, t.if_a),
			      "removing the qdisc");
		}
		x = t_open(&t, "all", &o);
		xp_close(x);
		t_assert_clean(&t);
	}

	/* A clsact qdisc that was there before us stays. */
	CHECK(!tn_sh("tc -n %s qdisc add dev %s clsact", t.ns_a, t.if_a), "add clsact");
	x = t_open(&t, "all", &o);
	xp_close(x);
	CHECK(tn_clsact_present(&t), "removed somebody else's clsact qdisc");
	CHECK(!tn_tc_attached(&t) && !tn_xdp_prog_id(&t, NULL), "left a program");
}

void t_second_refused(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp *x, *y = NULL;
	struct xp_elf e;
	char err[512] = "";
	uint32_t id;
	int ret;

	tn_up(&t, "sr", 0);
	o = tn_opts(&t, true, true, false, 0);
	x = t_open(&t, "udp", &o);
	id = tn_xdp_prog_id(&t, NULL);
	tn_elf("all", &e);
	ret = xp_open_elf(&o, &e, &y, err, sizeof(err));
	CHECK(ret == -EBUSY && !y, "second open: %d %s", ret, err);
	CHECK(strstr(err, "held by a running capture-appliance"), "message: %s", err);
	CHECK(strstr(err, "pid"), "message names the pid: %s", err);
	CHECK(tn_xdp_prog_id(&t, NULL) == id, "the first appliance's program changed");
	CHECK(tn_tc_attached(&t), "the first appliance's TC filter went away");
	xp_elf_free(&e);
	xp_close(x);
	t_assert_clean(&t);
}

void t_foreign_refused(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp *x = NULL;
	struct xp_elf e;
	char err[512] = "";
	uint32_t id;
	int ret;

	tn_up(&t, "fr", 0);
	CHECK(!tn_sh("ip -n %s link set dev %s xdpgeneric obj %s/tx_foreign.bpf.o sec xdp",
		     t.ns_a, t.if_a, XP_TEST_OBJ_DIR), "attach the foreign program");
	id = tn_xdp_prog_id(&t, NULL);
	CHECK(id, "foreign program not attached");
	o = tn_opts(&t, true, true, false, 0);
	tn_elf("all", &e);
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(ret == -EBUSY && !x, "open over a foreign program: %d %s", ret, err);
	CHECK(strstr(err, "foreign_pass"), "message names the program: %s", err);
	CHECK(tn_xdp_prog_id(&t, NULL) == id, "the foreign program was touched");
	CHECK(!tn_tc_attached(&t) && !tn_clsact_present(&t) && !tn_pidfiles(&t),
	      "something left after the refusal");
	xp_elf_free(&e);
}

void t_errors(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp *x = NULL;
	struct xp_elf e, bad = { 0 };
	char err[1024] = "", junk[64];
	int ret, st;
	pid_t pid;

	tn_up(&t, "er", 0);
	tn_elf("all", &e);

	o = tn_opts(&t, true, true, false, 0);
	o.ifname = "dpanosuchif";
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(ret == -ENODEV && !x, "unknown interface: %d %s", ret, err);
	CHECK(strstr(err, "dpanosuchif") && strstr(err, "no such interface"), "msg: %s", err);

	/* Garbage instead of an ELF object: -EINVAL-ish, nothing attached. */
	memset(junk, 0x5a, sizeof(junk));
	bad.xdp = junk;
	bad.xdp_len = sizeof(junk);
	bad.tc = e.tc;
	bad.tc_len = e.tc_len;
	o = tn_opts(&t, true, true, false, 0);
	ret = xp_open_elf(&o, &bad, &x, err, sizeof(err));
	CHECK(ret < 0 && !x, "garbage object accepted");
	t_assert_clean(&t);

	/* Not root: a child drops to nobody. */
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
		fprintf(stderr, "as nobody: %d %s\n", ret, err);
		_exit(ret == -EPERM && strstr(err, "root") ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "not-root open did not fail with -EPERM and a message (status %d)", st);
	t_assert_clean(&t);

	/* Not root, with a lock folder it may write: the kernel refuses. */
	CHECK(!tn_sh("mkdir -p %s/open && chmod 777 %s/open", t.run_dir, t.run_dir), "mkdir");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		char dir[128];

		snprintf(dir, sizeof(dir), "%s/open", t.run_dir);
		o.run_dir = dir;
		if (setgid(65534) || setuid(65534))
			_exit(3);
		ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
		fprintf(stderr, "as nobody: %d %s\n", ret, err);
		_exit(ret == -EPERM && strstr(err, "root") ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "not-root load did not fail with -EPERM and a message (status %d)", st);
	CHECK(!tn_xdp_prog_id(&t, NULL) && !tn_tc_attached(&t) && !tn_clsact_present(&t),
	      "left something attached");

	/* Bad options. */
	o.rb_size = 5000;
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(ret == -EINVAL, "ring size 5000 accepted");
	xp_elf_free(&e);
}

void t_multiqueue(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp_info info;
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	struct xp *x;

	tn_up(&t, "mq", 4);
	o = tn_opts(&t, true, false, false, 0);
	x = t_open(&t, "udp", &o);
	xp_info(x, &info);
	CHECK(info.rx_queues == 4, "rx_queues %u, want 4", info.rx_queues);
	CHECK(!bpf_obj_get_info_by_fd(xp_xsks_fd(x), &mi, &len), "map info");
	CHECK(mi.type == BPF_MAP_TYPE_XSKMAP && mi.max_entries == 4,
	      "xskmap type %u entries %u", mi.type, mi.max_entries);
	CHECK(info.mtu == 1500, "mtu %u", info.mtu);
	xp_close(x);
	t_assert_clean(&t);
}
