// SPDX-License-Identifier: MIT
/*
 * HANDLE values for the objects an application names by handle: events
 * (WSAEVENT) and threads (WSATHREADID.ThreadHandle). A handle is a slot
 * index and the slot's generation, never a pointer: a closed, stale or
 * made-up handle is recognised as invalid instead of being dereferenced.
 * All calls with the lock held.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#define IDX_BITS	20
#define MAX_SLOTS	((1u << IDX_BITS) - 1)
/* the two low bits stay 0, as in Windows' handles: an OVERLAPPED's
 * hEvent with its low bit set still names its event */
#define LOW_BITS	2
#define GEN_MASK	(UINTPTR_MAX >> (IDX_BITS + LOW_BITS))

struct slot {
	void *obj;		/* NULL: free */
	uintptr_t gen;		/* bumped when freed; never 0 */
	unsigned int next_free;	/* index + 1 of the next free slot, 0: none */
	enum ws_handle_type type;
};

static struct slot *slots;
static unsigned int nslots, first_free;	/* first_free: index + 1 */

static HANDLE encode(unsigned int idx, uintptr_t gen)
{
	return (HANDLE)(((gen << IDX_BITS) | (uintptr_t)(idx + 1)) << LOW_BITS);
}

static struct slot *decode(HANDLE h, enum ws_handle_type type)
{
	uintptr_t v = (uintptr_t)h >> LOW_BITS, idx = (v & MAX_SLOTS);

	if ((uintptr_t)h & ((1u << LOW_BITS) - 1) || !idx || idx > nslots)
		return NULL;
	idx--;
	if (!slots[idx].obj || slots[idx].type != type ||
	    slots[idx].gen != v >> IDX_BITS)
		return NULL;
	return &slots[idx];
}

static bool grow(void)
{
	unsigned int n = nslots ? nslots * 2 : 16;
	struct slot *s;

	if (nslots >= MAX_SLOTS)
		return false;
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	s = realloc(slots, n * sizeof(*s));
	if (!s)
		return false;
	for (unsigned int i = nslots; i < n; i++) {
		s[i] = (struct slot){ .gen = 1,
				      .next_free = i + 1 < n ? i + 2 : 0 };
	}
	first_free = nslots + 1;
	slots = s;
	nslots = n;
	return true;
}

HANDLE ws_handle_add(void *obj, enum ws_handle_type type)
{
	struct slot *s;

	if (!first_free && !grow())
		return NULL;
	s = &slots[first_free - 1];
	first_free = s->next_free;
	s->obj = obj;
	s->type = type;
	return encode((unsigned int)(s - slots), s->gen);
}

void *ws_handle_get(HANDLE h, enum ws_handle_type type)
{
	struct slot *s = decode(h, type);

	return s ? s->obj : NULL;
}

void *ws_handle_del(HANDLE h, enum ws_handle_type type)
{
	struct slot *s = decode(h, type);
	void *obj;

	if (!s)
		return NULL;
	obj = s->obj;
	s->obj = NULL;
	s->gen = (s->gen + 1) & GEN_MASK;
	if (!s->gen)
		s->gen = 1;
	s->next_free = first_free;
	first_free = (unsigned int)(s - slots) + 1;
	return obj;
}
