// SPDX-License-Identifier: BSD-2-Clause
/* Differential runner: one expression, every packet, both hooks, vs libpcap. */
#include "test_fg_corpus.h"

#include "filtergen/filtergen.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FGT_MAX_REPORT 8 /* detailed disagreement lines per expression */

static const char *hook_name(enum fg_hook h)
{
	return h == FG_HOOK_XDP ? "xdp" : "tc";
}

int fgt_pcap_compile(const char *expr, uint32_t snaplen, int unopt,
		     struct bpf_program *prog, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	int rc = 0;

	if (!p) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -ENOMEM;
	}
	if (pcap_compile(p, prog, expr, !unopt, 0) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		rc = -EINVAL;
	}
	pcap_close(p);
	return rc;
}

int fgt_has_backward_jump(const struct bpf_program *prog)
{
	for (u_int i = 0; i < prog->bf_len; i++) {
		const struct bpf_insn *in = &prog->bf_insns[i];

		/* jt/jf are unsigned 8-bit: only `ja` can go backwards. */
		if (in->code == (BPF_JMP | BPF_JA) && (int32_t)in->k < 0)
			return 1;
	}
	return 0;
}

/* The kernel's bpf_check_classic, through SO_ATTACH_FILTER on a socket. */
static int kernel_refuses(const struct bpf_program *prog)
{
	struct sock_fprog fp = {
		.len = (unsigned short)prog->bf_len,
		.filter = (struct sock_filter *)prog->bf_insns,
	};
	int s, rc;

	if (prog->bf_len > 0xffff)
		return 1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return 0;
	rc = setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	close(s);
	return rc != 0;
}

static void print_pkt(const struct fgt_pkt *pkt)
{
	uint32_t n = pkt->len < 256 ? pkt->len : 256;

	printf("    packet %s len=%u wire_len=%u bytes=", pkt->origin, pkt->len,
	       pkt->wire_len);
	for (uint32_t i = 0; i < n; i++)
		printf("%02x", pkt->data[i]);
	printf("%s\n", n < pkt->len ? "..." : "");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs one packet on one hook; returns 1 if compared, 0 if the kernel
 * refused the frame size (counted), <0 on a real error (counted). */
static int run_hook(struct fg_probe *p, enum fg_hook hook,
		    const struct fgt_case *c, const struct fgt_pkt *pkt,
		    uint32_t want, struct fgt_stats *st, int quiet, int *nrep)
{
	uint32_t got = 0;
	int rc;

	rc = fg_probe_run(p, hook, pkt->data, pkt->len, pkt->wire_len, &got);
	/* A frame the kernel's test run refuses for any program cannot be
	 * compared on this hook: counted, not an fg error. */
	if (rc < 0 && pkt->kernel_refuses[hook == FG_HOOK_TC]) {
		if (hook == FG_HOOK_XDP) {
			st->xdp_refused++;
			return 0;
		}
		st->tc_refused++;
		if (!st->tc_refused_min_len || pkt->len < st->tc_refused_min_len)
			st->tc_refused_min_len = pkt->len;
		return 0;
	}
	if (rc < 0) {
		st->errors++;
		if (!quiet && (*nrep)++ < FGT_MAX_REPORT)
			printf("RUN-ERROR expr=\"%s\" hook=%s %s len=%u: %s\n",
			       c->fg_expr, hook_name(hook), pkt->origin,
			       pkt->len, strerror(-rc));
		return rc;
	}
	st->comparisons++;
	if (got == want)
		return 1;
	st->disagreements++;
	if (!quiet && (*nrep)++ < FGT_MAX_REPORT) {
		printf("DISAGREE expr=\"%s\" snaplen=%u hook=%s libpcap=%u fg=%u (%s)\n",
		       c->fg_expr, c->snaplen, hook_name(hook), want, got,
		       c->origin);
		print_pkt(pkt);
	}
	return 1;
}

int fgt_diff_case(const struct fgt_pkts *pk, const struct fgt_case *c,
		  struct fgt_stats *st, int quiet)
{
	char err[FG_ERR_LEN] = "", perr[PCAP_ERRBUF_SIZE + 64] = "";
	struct bpf_program prog = { 0 };
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	uint64_t dis0 = st->disagreements, err0 = st->errors;
	int rc, nrep = 0, have_prog = 0;
	double t0;

	if (c->pkts)
		pk = c->pkts;
	if (c->expected && c->nexpected != pk->n) {
		st->errors++;
		printf("APPLY-ERROR expr=\"%s\" (%s): %zu recorded results for %zu records\n",
		       c->fg_expr, c->origin, c->nexpected, pk->n);
		return -EINVAL;
	}

	rc = fgt_pcap_compile(c->pcap_expr, c->snaplen, c->unopt, &prog, perr,
			      sizeof(perr));
	if (rc) {
		st->errors++;
		printf("PCAP-ERROR expr=\"%s\": %s\n", c->pcap_expr, perr);
		goto out;
	}
	have_prog = 1;
	t0 = now_ms();
	if (c->unopt)
		rc = fg_from_cbpf(prog.bf_insns, prog.bf_len, c->snaplen, &f,
				  err, sizeof(err));
	else
		rc = fg_compile(c->fg_expr, c->snaplen, &f, err, sizeof(err));
	if (rc == -ENOTSUP && fgt_has_backward_jump(&prog)) {
		/* Allowed by issue 2: refused with a clear error, never wrong. */
		st->enotsup++;
		if (!quiet)
			printf("REFUSED-BACKWARD-JUMP expr=\"%s\": %s\n",
			       c->fg_expr, err);
		rc = 0;
		goto out;
	}
	if ((rc == -EINVAL || rc == -ENOTSUP) && kernel_refuses(&prog)) {
		/* libpcap emitted a program the kernel's classic checker
		 * refuses too (e.g. M[] read before written on some path). */
		st->kernel_refused++;
		if (!quiet)
			printf("REFUSED-LIKE-KERNEL expr=\"%s\" (%s): fg: %s: %s; the kernel's SO_ATTACH_FILTER refuses this cBPF too\n",
			       c->fg_expr, c->origin, strerror(-rc), err);
		rc = 0;
		goto out;
	}
	if (rc) {
		st->errors++;
		printf("COMPILE-ERROR expr=\"%s\" (%s): %s: %s\n", c->fg_expr,
		       c->origin, strerror(-rc), err);
		goto out;
	}
	rc = fg_probe_load(f, &p, err, sizeof(err));
	if (rc) {
		st->errors++;
		printf("LOAD-ERROR expr=\"%s\" (%s): %s: %s\n", c->fg_expr,
		       c->origin, strerror(-rc), err);
		goto out;
	}
	st->compile_ms += now_ms() - t0;
	st->exprs++;

	for (size_t i = 0; i < pk->n; i++) {
		const struct fgt_pkt *pkt = &pk->v[i];
		uint32_t want = bpf_filter(prog.bf_insns, pkt->data,
					   pkt->wire_len, pkt->len);

		if (i == c->flip_pkt)
			want = want ? 0 : c->snaplen;
		if (c->expected && i < c->nexpected && c->expected[i] != want) {
			st->expected_mismatch++;
			if (!quiet)
				printf("LIBPCAP-1.10-VS-RECORDED expr=\"%s\" %s: libpcap %s gives %u, %s recorded %u\n",
				       c->pcap_expr, pkt->origin,
				       pcap_lib_version(), want, c->origin,
				       c->expected[i]);
		}
		st->packets++;
		run_hook(p, FG_HOOK_XDP, c, pkt, want, st, quiet, &nrep);
		run_hook(p, FG_HOOK_TC, c, pkt, want, st, quiet, &nrep);
	}
	if (!quiet && nrep > FGT_MAX_REPORT)
		printf("  ... %d more problems for expr=\"%s\"\n",
		       nrep - FGT_MAX_REPORT, c->fg_expr);
	rc = 0;
out:
	if (!quiet && (st->disagreements != dis0 || st->errors != err0))
		printf("  FAILED expr=\"%s\" (%s): %llu disagreements, %llu errors\n",
		       c->fg_expr, c->origin,
		       (unsigned long long)(st->disagreements - dis0),
		       (unsigned long long)(st->errors - err0));
	fflush(stdout);
	fg_probe_free(p);
	fg_free(f);
	if (have_prog)
		pcap_freecode(&prog);
	return rc;
}

void fgt_stats_add(struct fgt_stats *d, const struct fgt_stats *s)
{
	d->exprs += s->exprs;
	d->left_out += s->left_out;
	d->packets += s->packets;
	d->comparisons += s->comparisons;
	d->disagreements += s->disagreements;
	d->expected_mismatch += s->expected_mismatch;
	d->errors += s->errors;
	d->enotsup += s->enotsup;
	d->tc_refused += s->tc_refused;
	d->xdp_refused += s->xdp_refused;
	d->kernel_refused += s->kernel_refused;
	if (s->tc_refused_min_len &&
	    (!d->tc_refused_min_len ||
	     s->tc_refused_min_len < d->tc_refused_min_len))
		d->tc_refused_min_len = s->tc_refused_min_len;
	d->rejected += s->rejected;
	d->wording += s->wording;
	d->compile_ms += s->compile_ms;
}

int fgt_diff_cases(const struct fgt_pkts *pk, const struct fgt_case *c,
		   size_t n, int nworkers, struct fgt_stats *st)
{
	pid_t pids[16];
	int fds[16];
	int w, err = 0;

	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > 16)
		nworkers = 16;
	fflush(stdout);
	for (w = 0; w < nworkers; w++) {
		int pfd[2];

		if (pipe(pfd))
			return -errno;
		pids[w] = fork();
		if (pids[w] < 0) {
			close(pfd[0]);
			close(pfd[1]);
			nworkers = w;
			err = -errno;
			break;
		}
		if (pids[w] == 0) {
			struct fgt_stats mine = { 0 };

			close(pfd[0]);
			setvbuf(stdout, NULL, _IOLBF, 0);
			/* Stride, so both workers get a mix of cheap and
			 * expensive expressions. */
			for (size_t i = w; i < n; i += nworkers)
				fgt_diff_case(pk, &c[i], &mine, 0);
			if (write(pfd[1], &mine, sizeof(mine)) != sizeof(mine))
				_exit(2);
			_exit(0);
		}
		close(pfd[1]);
		fds[w] = pfd[0];
	}
	for (int i = 0; i < nworkers; i++) {
		struct fgt_stats part = { 0 };
		int status = 0;

		if (read(fds[i], &part, sizeof(part)) != sizeof(part)) {
			printf("worker %d died without results\n", i);
			part.errors++;
		}
		close(fds[i]);
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("worker %d exited abnormally (status 0x%x)\n", i,
			       status);
			part.errors++;
		}
		fgt_stats_add(st, &part);
	}
	return err;
}

int fgt_self_check(const struct fgt_pkts *pk)
{
	struct fgt_stats wrong = { 0 }, flip = { 0 };
	struct fgt_case c = {
		.fg_expr = "tcp", .pcap_expr = "udp",
		.snaplen = FGT_SNAPLEN_DEFAULT, .origin = "self-check",
		.flip_pkt = SIZE_MAX,
	};
	size_t i;

	fgt_diff_case(pk, &c, &wrong, 1);
	/* Flip libpcap's verdict on one ordinary-size packet: exactly one
	 * disagreement per hook must be seen. */
	for (i = 0; i < pk->n; i++)
		if (pk->v[i].len >= 60 && pk->v[i].len <= 1500)
			break;
	c.pcap_expr = "tcp";
	c.flip_pkt = i;
	fgt_diff_case(pk, &c, &flip, 1);
	printf("SELF-CHECK fg \"tcp\" vs libpcap \"udp\": %llu disagreements in %llu comparisons (must be > 0)\n",
	       (unsigned long long)wrong.disagreements,
	       (unsigned long long)wrong.comparisons);
	printf("SELF-CHECK one flipped libpcap verdict (%s): %llu disagreements (must be 2: xdp+tc), %llu errors\n",
	       i < pk->n ? pk->v[i].origin : "none",
	       (unsigned long long)flip.disagreements,
	       (unsigned long long)flip.errors);
	if (!wrong.disagreements || wrong.errors || flip.disagreements != 2 ||
	    flip.errors || i == pk->n) {
		printf("SELF-CHECK FAILED: the harness cannot see a wrong filter\n");
		return -1;
	}
	return 0;
}

void fgt_stats_print(const char *name, const struct fgt_pkts *pk,
		     const struct fgt_stats *st)
{
	printf("SUMMARY %s: expressions=%llu left_out=%llu packets=%zu runs=%llu comparisons=%llu disagreements=%llu errors=%llu refused_backward_jump=%llu tc_frame_refused_by_test_run=%llu (min len %llu) xdp_frame_refused_by_test_run=%llu refused_like_kernel=%llu libpcap110_vs_recorded=%llu compile_to_loaded_avg_ms=%.1f\n",
	       name, (unsigned long long)st->exprs,
	       (unsigned long long)st->left_out, pk->n,
	       (unsigned long long)st->packets,
	       (unsigned long long)st->comparisons,
	       (unsigned long long)st->disagreements,
	       (unsigned long long)st->errors,
	       (unsigned long long)st->enotsup,
	       (unsigned long long)st->tc_refused,
	       (unsigned long long)st->tc_refused_min_len,
	       (unsigned long long)st->xdp_refused,
	       (unsigned long long)st->kernel_refused,
	       (unsigned long long)st->expected_mismatch,
	       st->exprs ? st->compile_ms / st->exprs : 0.0);
	printf("corpus packets: files=%zu ethernet=%zu unreadable=%zu records=%zu full_length=%zu cut_short=%zu duplicates=%zu unique=%zu (of them cut short: %zu); frames any program's test run refuses: xdp=%zu tc=%zu\n",
	       pk->files, pk->files_eth, pk->files_bad, pk->records,
	       pk->full_len, pk->cut, pk->dups, pk->n, pk->cut_unique,
	       pk->kernel_refused[0],
	       pk->kernel_refused[1]);
}
