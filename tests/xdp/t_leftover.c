/* SPDX-License-Identifier: BSD-2-Clause */
/* An appliance killed with SIGKILL: its leftovers are found and removed. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

static void keep_log(void *arg, const char *msg)
{
	snprintf(arg, 512, "%s", msg);
}

void t_leftovers(void)
{
	struct tnet t;
	struct xp_opts o;
	struct xp_info info;
	struct xp_elf e;
	struct xp *x = NULL;
	char err[512] = "", logbuf[512] = "", want[64], c;
	int p[2], ret, st;
	pid_t pid;

	tn_up(&t, "lo", 0);
	o = tn_opts(&t, true, true, false, 0);
	tn_elf("udp", &e);
	CHECK(!pipe(p), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		tn_forget();
		ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "child open: %s\n", err);
			_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 1, "the child did not attach");

	/* While it lives, a second appliance is refused. */
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	snprintf(want, sizeof(want), "pid %d", pid);
	CHECK(ret == -EBUSY && strstr(err, want), "open next to a live one: %d %s", ret, err);

	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st), "child not killed");
	/* The XDP link died with it; the TC filter and the qdisc did not. */
	CHECK(tn_xdp_prog_id(&t, NULL) == 0, "XDP link survived SIGKILL");
	CHECK(tn_tc_attached(&t) && tn_clsact_present(&t), "no TC leftover to test with");
	CHECK(tn_pidfiles(&t) == 1, "pid file gone");

	o.log = keep_log;
	o.log_arg = logbuf;
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(!ret, "open after SIGKILL: %d %s", ret, err);
	xp_info(x, &info);
	CHECK(info.leftovers_removed && info.leftover_pid == pid, "leftovers %d pid %d",
	      info.leftovers_removed, info.leftover_pid);
	CHECK(strstr(logbuf, "removed leftovers") && strstr(logbuf, want) &&
		      strstr(logbuf, "TC egress filter"),
	      "log: %s", logbuf);
	CHECK(tn_xdp_prog_id(&t, NULL) && tn_tc_attached(&t), "not attached after restart");
	xp_close(x);
	/* The qdisc the dead one created goes too. */
	t_assert_clean(&t);

	/* Our XDP program attached through netlink with no pid file (e.g. by
	 * hand): recognised by its name and removed too. */
	CHECK(!tn_sh("ip -n %s link set dev %s xdpgeneric obj %s/tx_capture_udp.bpf.o sec xdp",
		     t.ns_a, t.if_a, XP_TEST_OBJ_DIR), "attach by hand");
	CHECK(tn_xdp_prog_id(&t, NULL), "not attached by hand");
	logbuf[0] = 0;
	ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
	CHECK(!ret, "open over a netlink leftover: %d %s", ret, err);
	xp_info(x, &info);
	CHECK(info.leftovers_removed && info.leftover_pid == 0, "not reported");
	CHECK(strstr(logbuf, "XDP program"), "log: %s", logbuf);
	xp_close(x);
	t_assert_clean(&t);
	xp_elf_free(&e);
}
