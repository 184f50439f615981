/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a compiled expression requires of a packet, read from libpcap's
 * cBPF rather than from the expression text: every path from the start
 * to an accepting `ret` is walked (the program is a DAG: jumps only go
 * forward) with what the path knows about A, X and the packet bytes it
 * compared equal. A `jeq` taken on a load that, given the facts of the
 * path (ethertype, VLAN tags, IP version, IP protocol), is an IPv4/IPv6
 * address, a port, an IP protocol or a VLAN ID, in the very places
 * ex_pkt_keys takes its keys from, adds that key to the path's
 * requirements. Each accepting path is one alternative; a path with no
 * key, or too many paths, means "cannot narrow". Anything not recognised
 * just adds no key, so the summary can only be weaker than the truth.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "extract/ex_internal.h"

#define MAX_FACTS 48
#define MAX_PKEYS 16
#define MAX_ALTS 1024
#define MAX_STEPS 200000

/* A value loaded from the packet: [off] (abs) or [X + off] with
 * X = 4*([msh]&0xf), size bytes, and'ed with mask. */
struct load {
	bool valid;
	bool ind;
	uint32_t msh, off, size, mask;
};

struct fact {
	struct load l;
	uint32_t v;
};

struct path {
	struct load a;
	bool x_msh;
	uint32_t x_off;
	size_t nfacts, nkeys;
	struct fact facts[MAX_FACTS];
	struct ex_key keys[MAX_PKEYS];
};

struct walk {
	int dlt;
	const struct bpf_insn *in;
	size_t n;
	size_t steps;
	bool give_up;
	struct ex_need *need;
};

static bool same_load(const struct load *a, const struct load *b)
{
	return a->ind == b->ind && a->off == b->off && a->size == b->size &&
	       a->mask == b->mask && (!a->ind || a->msh == b->msh);
}

/* The value the path compared [off:size] (absolute, unmasked) equal to. */
static bool fact(const struct path *p, uint32_t off, uint32_t size, uint32_t mask, uint32_t *v)
{
	struct load l = { .valid = true, .off = off, .size = size, .mask = mask };

	for (size_t i = 0; i < p->nfacts; i++) {
		if (same_load(&p->facts[i].l, &l)) {
			*v = p->facts[i].v;
			return true;
		}
	}
	return false;
}

static bool is_vlan(uint32_t et)
{
	return et == 0x8100 || et == 0x88a8 || et == 0x9100;
}

static bool l4(uint32_t p)
{
	return p == 6 || p == 17 || p == 132;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void key(struct ex_key *k, uint8_t type, const uint8_t *val, uint8_t len)
{
	memset(k, 0, sizeof(*k));
	k->type = type;
	k->len = len;
	memcpy(k->val, val, len);
}

/* An IPv4 address compared whole (host) or under a /8, /16, /24 mask (net). */
static bool addr4_key(const struct fact *f, struct ex_key *k)
{
	uint8_t b[5];

	put32(b, f->v);
	if (f->l.mask == 0xffffffffu) {
		key(k, EX_KEY_IP4, b, 4);
		return true;
	}
	for (int len = 8; len <= 24; len += 8) {
		if (f->l.mask == ~0u << (32 - len) && !(f->v & ~f->l.mask)) {
			b[4] = (uint8_t)len;
			key(k, EX_KEY_NET4, b, 5);
			return true;
		}
	}
	return false;
}

/* The key that fact f (just added to the path) amounts to, given the
 * network header at base with ethertype et (0x800/0x86dd/0x806/0x8035). */
static bool l3_key(const struct path *p, const struct fact *f, uint32_t base, uint32_t et,
		   struct ex_key *k)
{
	const struct load *l = &f->l;
	uint8_t b[16];
	uint32_t v;

	if (l->ind) {
		/* ports behind the IPv4 header: [4*([base]&0xf) + base (+2)] */
		if (et == 0x800 && l->msh == base && l->size == 2 && l->mask == 0xffffffffu &&
		    (l->off == base || l->off == base + 2) && fact(p, base + 9, 1, ~0u, &v) && l4(v)) {
			b[0] = (uint8_t)(f->v >> 8);
			b[1] = (uint8_t)f->v;
			key(k, EX_KEY_PORT, b, 2);
			return true;
		}
		return false;
	}
	if (et == 0x800) {
		if (l->size == 4 && (l->off == base + 12 || l->off == base + 16))
			return addr4_key(f, k);
		if (l->mask != 0xffffffffu)
			return false;
		if (l->size == 1 && l->off == base + 9) {
			b[0] = (uint8_t)f->v;
			key(k, EX_KEY_PROTO, b, 1);
			return true;
		}
		return false;
	}
	if (et == 0x806 || et == 0x8035)
		return l->size == 4 && (l->off == base + 14 || l->off == base + 24) && addr4_key(f, k);
	if (et != 0x86dd || l->mask != 0xffffffffu)
		return false;
	if (l->size == 1 && (l->off == base + 6 ||
			     (l->off == base + 40 && fact(p, base + 6, 1, ~0u, &v) && v == 44))) {
		b[0] = (uint8_t)f->v;
		key(k, EX_KEY_PROTO, b, 1);
		return true;
	}
	if (l->size == 2 && (l->off == base + 40 || l->off == base + 42) &&
	    fact(p, base + 6, 1, ~0u, &v) && l4(v)) {
		b[0] = (uint8_t)(f->v >> 8);
		b[1] = (uint8_t)f->v;
		key(k, EX_KEY_PORT, b, 2);
		return true;
	}
	if (l->size == 4 && l->off >= base + 8 && l->off < base + 40 && !((l->off - base) & 3)) {
		/* an address once all four of its words are known */
		uint32_t a0 = l->off < base + 24 ? base + 8 : base + 24;
		for (uint32_t w = 0; w < 4; w++) {
			if (!fact(p, a0 + 4 * w, 4, ~0u, &v))
				return false;
			put32(b + 4 * w, v);
		}
		key(k, EX_KEY_IP6, b, 16);
		return true;
	}
	return false;
}

static bool derive_key(const struct path *p, const struct fact *f, int dlt, struct ex_key *k)
{
	uint32_t v;

	if (dlt == DLT_RAW) {
		if (!fact(p, 0, 1, 0xf0, &v) || (v != 0x40 && v != 0x60))
			return false;
		return l3_key(p, f, 0, v == 0x40 ? 0x800 : 0x86dd, k);
	}
	if (dlt != DLT_EN10MB)
		return false;
	/* the VLAN stack the path has seen, as ex_pkt_keys walks it */
	uint32_t depth = 0, et = 0;
	bool have_et = false;
	while (depth <= EX_VLAN_DEPTH && fact(p, 12 + 4 * depth, 2, ~0u, &et)) {
		if (!is_vlan(et) || depth == EX_VLAN_DEPTH) {
			have_et = !is_vlan(et);
			break;
		}
		depth++;
	}
	const struct load *l = &f->l;
	if (!l->ind && l->size == 2 && l->mask == 0xfff && l->off >= 14 && !((l->off - 14) & 3) &&
	    (l->off - 14) / 4 < depth) {
		uint8_t b[2] = { (uint8_t)(f->v >> 8), (uint8_t)f->v };
		key(k, EX_KEY_VLAN, b, 2);
		return true;
	}
	if (!have_et)
		return false;
	return l3_key(p, f, 14 + 4 * depth, et, k);
}

static int add_alt(struct walk *w, const struct path *p)
{
	struct ex_need *need = w->need;

	if (!p->nkeys || need->nalt >= MAX_ALTS) {
		w->give_up = true;
		return 0;
	}
	void *a = realloc(need->alts, (need->nalt + 1) * sizeof(*need->alts));
	if (!a)
		return -ENOMEM;
	need->alts = a;
	struct ex_need_alt *alt = &need->alts[need->nalt];
	alt->keys = malloc(p->nkeys * sizeof(*alt->keys));
	if (!alt->keys)
		return -ENOMEM;
	memcpy(alt->keys, p->keys, p->nkeys * sizeof(*alt->keys));
	alt->nkeys = p->nkeys;
	need->nalt++;
	return 0;
}

static int walk(struct walk *w, size_t pc, struct path *p);

/* The taken side of a jeq on a packet load: a new fact, maybe a key;
 * false if the path contradicts itself (then it can't be taken). */
static bool take_eq(struct walk *w, struct path *p, uint32_t v)
{
	uint32_t old;

	for (size_t i = 0; i < p->nfacts; i++) {
		if (same_load(&p->facts[i].l, &p->a)) {
			old = p->facts[i].v;
			return old == v;
		}
	}
	if (p->nfacts == MAX_FACTS)
		return true; /* forget it: weaker, still right */
	struct fact *f = &p->facts[p->nfacts++];
	f->l = p->a;
	f->v = v;
	struct ex_key k;
	if (p->nkeys < MAX_PKEYS && derive_key(p, f, w->dlt, &k))
		p->keys[p->nkeys++] = k;
	return true;
}

static bool contradicts_ne(const struct path *p, uint32_t v)
{
	for (size_t i = 0; i < p->nfacts; i++)
		if (same_load(&p->facts[i].l, &p->a))
			return p->facts[i].v == v;
	return false;
}

static int walk(struct walk *w, size_t pc, struct path *p)
{
	int ret;

	while (pc < w->n && !w->give_up) {
		const struct bpf_insn *in = &w->in[pc];
		if (++w->steps > MAX_STEPS) {
			w->give_up = true;
			return 0;
		}
		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
			p->a = (struct load){ 0 };
			if (BPF_MODE(in->code) == BPF_ABS || (BPF_MODE(in->code) == BPF_IND && p->x_msh)) {
				uint32_t sz = BPF_SIZE(in->code) == BPF_W ? 4 :
					      BPF_SIZE(in->code) == BPF_H ? 2 : 1;
				p->a = (struct load){ .valid = true, .ind = BPF_MODE(in->code) == BPF_IND,
						      .msh = p->x_off, .off = in->k, .size = sz,
						      .mask = 0xffffffffu };
			}
			break;
		case BPF_LDX:
			p->x_msh = BPF_MODE(in->code) == BPF_MSH;
			p->x_off = in->k;
			break;
		case BPF_ST:
		case BPF_STX:
			break;
		case BPF_ALU:
			if (BPF_OP(in->code) == BPF_AND && BPF_SRC(in->code) == BPF_K && p->a.valid &&
			    p->a.mask == 0xffffffffu)
				p->a.mask = in->k;
			else
				p->a.valid = false;
			break;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				p->x_msh = false;
			else
				p->a.valid = false;
			break;
		case BPF_RET:
			if (BPF_RVAL(in->code) == BPF_K && in->k == 0)
				return 0;
			return add_alt(w, p);
		case BPF_JMP: {
			if (BPF_OP(in->code) == BPF_JA) {
				pc += 1 + (size_t)in->k;
				continue;
			}
			size_t t = pc + 1 + in->jt, f = pc + 1 + in->jf;
			bool eq = BPF_OP(in->code) == BPF_JEQ && BPF_SRC(in->code) == BPF_K && p->a.valid;
			if (t == f) {
				pc = t;
				continue;
			}
			/* the taken side on a copy, then go on with the other */
			struct path *c = malloc(sizeof(*c));
			if (!c)
				return -ENOMEM;
			*c = *p;
			ret = 0;
			if (!eq || take_eq(w, c, in->k))
				ret = walk(w, t, c);
			free(c);
			if (ret)
				return ret;
			if (eq && contradicts_ne(p, in->k))
				return 0;
			pc = f;
			continue;
		}
		}
		pc++;
	}
	return 0;
}

void ex_need_free(struct ex_need *need)
{
	for (size_t i = 0; i < need->nalt; i++)
		free(need->alts[i].keys);
	free(need->alts);
	memset(need, 0, sizeof(*need));
}

int ex_need_from_bpf(int dlt, const void *insns, size_t n, struct ex_need *need)
{
	struct walk w = { .dlt = dlt, .in = insns, .n = n, .need = need };
	struct path *p = calloc(1, sizeof(*p));
	int ret;

	memset(need, 0, sizeof(*need));
	if (!p)
		return -ENOMEM;
	ret = walk(&w, 0, p);
	free(p);
	if (ret) {
		ex_need_free(need);
		return ret;
	}
	if (w.give_up || !need->nalt) {
		/* no accepting path at all also lands here: nothing to skip by */
		ex_need_free(need);
		need->narrowable = false;
		return 0;
	}
	need->narrowable = true;
	return 0;
}

bool ex_need_block(const struct ex_need *need, struct ex_index *ix, uint32_t b)
{
	if (!need->narrowable || !ix->keys)
		return true;
	for (size_t i = 0; i < need->nalt; i++) {
		size_t k = 0;
		while (k < need->alts[i].nkeys && ex_index_may_have(ix, b, &need->alts[i].keys[k]))
			k++;
		if (k == need->alts[i].nkeys)
			return true;
	}
	return false;
}
