// SPDX-License-Identifier: MIT
/* Context layouts: the file's statements compiled, and rendered. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "lwfp_abi.h"
#include "layout.h"
#include "i18n.h"

#define WORDS_MAX	80	/* words on one line */

/* A layout being compiled: the header and fields, the fixed bytes, and
 * for each field the line it came from (for overlap errors). */
struct build {
	struct lwfp_layout_field field[LWFP_LAYOUT_FIELDS_MAX];
	int line_of[LWFP_LAYOUT_FIELDS_MAX];
	uint8_t data[LAYOUT_BLOB_MAX];
	size_t ndata;
	unsigned int nfields;
	long size;		/* -1: not given */
	char *err;
	size_t errlen;
	int line;
};

static int fail(struct build *b, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(b->err, b->errlen, _("line %d: "), b->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < b->errlen)
		vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool number(const char *w, long max, long *out)
{
	char *end;
	long v;

	if (!*w || *w == '-')
		return false;
	errno = 0;
	v = strtol(w, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static const struct {
	const char *name;
	uint8_t what;
} whats[] = {
	{ "orig_dst", LWFP_LW_ORIG_DST }, { "local", LWFP_LW_LOCAL },
	{ "pid", LWFP_LW_PID }, { "uid", LWFP_LW_UID },
	{ "gid", LWFP_LW_GID }, { "rule_id", LWFP_LW_RULE_ID },
	{ "protocol", LWFP_LW_PROTOCOL }, { "bytes", LWFP_LW_BYTES },
	{ "rule_context", LWFP_LW_RULE_CONTEXT }, { "comm", LWFP_LW_COMM },
};

static const struct {
	const char *name;
	uint8_t format;
	uint16_t len;
} formats[] = {
	{ "sockaddr_storage", LWFP_LF_SOCKADDR_STORAGE, 128 },
	{ "sockaddr_in6", LWFP_LF_SOCKADDR_IN6, 28 },
	{ "sockaddr_inet", LWFP_LF_SOCKADDR_INET, 28 },
	{ "addr16", LWFP_LF_ADDR16, 16 }, { "addr4", LWFP_LF_ADDR4, 4 },
	{ "port", LWFP_LF_PORT, 2 },
	{ "u8", LWFP_LF_LE, 1 }, { "u16le", LWFP_LF_LE, 2 },
	{ "u16be", LWFP_LF_BE, 2 }, { "u32le", LWFP_LF_LE, 4 },
	{ "u32be", LWFP_LF_BE, 4 }, { "u64le", LWFP_LF_LE, 8 },
	{ "u64be", LWFP_LF_BE, 8 },
};

/* The format word of an address (addr) or an integer (!addr) field. */
static int field_format(struct build *b, struct lwfp_layout_field *f,
			const char *w, bool addr)
{
	for (size_t i = 0; w && i < sizeof(formats) / sizeof(formats[0]); i++) {
		bool is_addr = formats[i].format < LWFP_LF_LE;

		if (strcmp(w, formats[i].name) || is_addr != addr)
			continue;
		f->format = formats[i].format;
		f->len = formats[i].len;
		return 0;
	}
	return fail(b, addr ? _("an address takes sockaddr_storage, "
				"sockaddr_in6, sockaddr_inet, addr16, addr4 or "
				"port, not '%s'") :
			      _("a number takes u8, u16le, u16be, u32le, u32be, "
				"u64le or u64be, not '%s'"), w ? w : _("nothing"));
}

/* One hex word: "de", "0xdeadbeef", "deadbeef". */
static int hex_word(struct build *b, const char *w)
{
	size_t n;

	if (!strncmp(w, "0x", 2) || !strncmp(w, "0X", 2))
		w += 2;
	n = strlen(w);
	if (!n || n % 2 || strspn(w, "0123456789abcdefABCDEF") != n)
		return fail(b, _("'%s' is not hex bytes"), w);
	for (size_t i = 0; i < n; i += 2) {
		unsigned int v;

		if (b->ndata >= sizeof(b->data))
			return fail(b, _("too many fixed bytes"));
		sscanf(w + i, "%2x", &v);
		b->data[b->ndata++] = (uint8_t)v;
	}
	return 0;
}

/* The arguments after the field's name, by what it is. */
static int field_args(struct build *b, struct lwfp_layout_field *f,
		      char **w, int nw)
{
	long n;

	if (f->what == LWFP_LW_BYTES) {
		f->format = LWFP_LF_RAW;
		f->arg = (uint16_t)b->ndata;
		if (!nw)
			return fail(b, _("bytes wants hex bytes after it"));
		for (int i = 0; i < nw; i++)
			if (hex_word(b, w[i]))
				return -EINVAL;
		f->len = (uint16_t)(b->ndata - f->arg);
		return 0;
	}
	if (nw > (f->what == LWFP_LW_COMM ? 0 : 1))
		return fail(b, _("unexpected '%s'"), w[nw - 1]);
	if (f->what == LWFP_LW_COMM) {
		f->format = LWFP_LF_RAW;
		f->len = 16;
		return 0;
	}
	if (f->what == LWFP_LW_RULE_CONTEXT) {
		if (!nw || !number(w[0], LWFP_RULE_CTX_MAX, &n) || !n)
			return fail(b, _("rule_context wants a length, 1 to %d"),
				    LWFP_RULE_CTX_MAX);
		f->format = LWFP_LF_RAW;
		f->len = (uint16_t)n;
		return 0;
	}
	return field_format(b, f, nw ? w[0] : NULL,
			    f->what == LWFP_LW_ORIG_DST ||
				    f->what == LWFP_LW_LOCAL);
}

/* Does f overlap a field already there? */
static int no_overlap(struct build *b, const struct lwfp_layout_field *f)
{
	for (unsigned int i = 0; i < b->nfields; i++) {
		const struct lwfp_layout_field *g = &b->field[i];

		if (f->offset < g->offset + g->len &&
		    g->offset < f->offset + f->len)
			return fail(b, _("overlaps the field of line %d"),
				    b->line_of[i]);
	}
	return 0;
}

/* "at OFFSET WHAT ARGS..." */
static int statement_at(struct build *b, char **w, int nw)
{
	struct lwfp_layout_field f = { 0 };
	long off;
	size_t i;

	if (nw < 3 || !number(w[1], LWFP_RULE_CTX_MAX - 1, &off))
		return fail(b, _("'at' wants an offset below %d and a field"),
			    LWFP_RULE_CTX_MAX);
	for (i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (!strcmp(w[2], whats[i].name))
			break;
	if (i == sizeof(whats) / sizeof(whats[0]))
		return fail(b, _("no field '%s' (orig_dst, local, pid, uid, gid, "
			    "rule_id, protocol, comm, bytes, rule_context)"),
			    w[2]);
	f.what = whats[i].what;
	f.offset = (uint16_t)off;
	if (field_args(b, &f, w + 3, nw - 3))
		return -EINVAL;
	if (off + f.len > LWFP_RULE_CTX_MAX)
		return fail(b, _("the field ends past %d bytes"), LWFP_RULE_CTX_MAX);
	if (no_overlap(b, &f))
		return -EINVAL;
	if (b->nfields == LWFP_LAYOUT_FIELDS_MAX)
		return fail(b, _("more than %d fields"), LWFP_LAYOUT_FIELDS_MAX);
	b->line_of[b->nfields] = b->line;
	b->field[b->nfields++] = f;
	return 0;
}

static int statement(struct build *b, char **w, int nw)
{
	long n;

	if (!nw)
		return 0;
	if (!strcmp(w[0], "size")) {
		if (b->size >= 0)
			return fail(b, _("size given twice"));
		if (nw != 2 || !number(w[1], LWFP_RULE_CTX_MAX, &n) || !n)
			return fail(b, _("size wants a number, 1 to %d"),
				    LWFP_RULE_CTX_MAX);
		b->size = n;
		return 0;
	}
	if (!strcmp(w[0], "at"))
		return statement_at(b, w, nw);
	return fail(b, _("unknown statement '%s' (size, at)"), w[0]);
}

/* Split line (modified) into words, a '#' ending it. */
static int split(struct build *b, char *line, char **w)
{
	int n = 0;
	char *save = NULL, *t;

	line[strcspn(line, "#")] = '\0';
	for (t = strtok_r(line, " \t\r", &save); t;
	     t = strtok_r(NULL, " \t\r", &save)) {
		if (n == WORDS_MAX)
			return fail(b, _("more than %d words"), WORDS_MAX);
		w[n++] = t;
	}
	return n;
}

/* The size the fields need, checked against the one given. */
static int finish_size(struct build *b)
{
	long end = 0;

	for (unsigned int i = 0; i < b->nfields; i++)
		if (b->field[i].offset + b->field[i].len > end)
			end = b->field[i].offset + b->field[i].len;
	if (!b->nfields)
		return fail(b, _("no field ('at OFFSET ...')"));
	if (b->size >= 0 && b->size < end)
		return fail(b, _("size %ld, but the fields end at %ld"), b->size,
			    end);
	if (b->size < 0)
		b->size = end;
	return 0;
}

static int emit(struct build *b, void *out, size_t *out_len)
{
	struct lwfp_layout hdr = { .magic = LWFP_LAYOUT_MAGIC,
				   .size = (uint16_t)b->size,
				   .nfields = (uint16_t)b->nfields };
	size_t fields = b->nfields * sizeof(b->field[0]);
	size_t total = sizeof(hdr) + fields + b->ndata;

	if (total > LAYOUT_BLOB_MAX)
		return fail(b, _("the layout takes %zu bytes compiled (max %d)"),
			    total, LAYOUT_BLOB_MAX);
	memcpy(out, &hdr, sizeof(hdr));
	memcpy((char *)out + sizeof(hdr), b->field, fields);
	memcpy((char *)out + sizeof(hdr) + fields, b->data, b->ndata);
	*out_len = total;
	return 0;
}

int layout_compile(const char *text, size_t len, void *out, size_t *out_len,
		   char *err, size_t errlen)
{
	struct build *b = calloc(1, sizeof(*b));
	char *copy = malloc(len + 1), *line, *next, *w[WORDS_MAX];
	int ret = 0, nw;

	if (!b || !copy) {
		free(b);
		free(copy);
		snprintf(err, errlen, "%s", _("out of memory"));
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	*b = (struct build){ .size = -1, .err = err, .errlen = errlen };
	if (memchr(text, '\0', len))
		ret = fail(b, _("a NUL byte in the layout text"));
	for (line = copy; !ret && line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		b->line++;
		nw = split(b, line, w);
		ret = nw < 0 ? nw : statement(b, w, nw);
	}
	if (!ret)
		ret = finish_size(b);
	if (!ret)
		ret = emit(b, out, out_len);
	free(copy);
	free(b);
	return ret;
}

/* ---- describing ---- */

struct text {
	char *out;
	size_t len, n;
};

static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->n < t->len ? t->out + t->n : NULL,
		      t->n < t->len ? t->len - t->n : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->n += (size_t)n;
}

/* The words after "at OFFSET": the field's name and its arguments. */
static void describe_field(struct text *t, const struct lwfp_layout_field *f,
			   const uint8_t *data)
{
	size_t i;

	for (i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (whats[i].what == f->what)
			say(t, "at %u %s", f->offset, whats[i].name);
	if (f->what == LWFP_LW_BYTES) {
		say(t, " ");
		for (i = 0; i < f->len; i++)
			say(t, "%02x", data[f->arg + i]);
	} else if (f->what == LWFP_LW_RULE_CONTEXT) {
		say(t, " %u", f->len);
	} else if (f->what != LWFP_LW_COMM) {
		for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
			if (formats[i].format == f->format &&
			    formats[i].len == f->len)
				break;
		if (i < sizeof(formats) / sizeof(formats[0]))
			say(t, " %s", formats[i].name);
	}
}

int layout_describe(const void *blob, size_t len, char *out, size_t outlen)
{
	struct lwfp_layout hdr;
	const struct lwfp_layout_field *f;
	struct text t = { .out = out, .len = outlen };

	if (layout_check(blob, len))
		return -EBADMSG;
	memcpy(&hdr, blob, sizeof(hdr));
	f = (const void *)((const char *)blob + sizeof(hdr));
	say(&t, "size %u", hdr.size);
	for (unsigned int i = 0; i < hdr.nfields; i++) {
		struct lwfp_layout_field one;

		memcpy(&one, &f[i], sizeof(one));
		say(&t, "; ");
		describe_field(&t, &one, (const uint8_t *)&f[hdr.nfields]);
	}
	if (outlen)
		out[t.n < outlen ? t.n : outlen - 1] = '\0';
	return (int)t.n;
}

/* ---- rendering ---- */

/* Is the field's length the one its format writes? */
static bool field_len_ok(const struct lwfp_layout_field *f)
{
	if (f->format == LWFP_LF_RAW)
		return f->what == LWFP_LW_BYTES ||
		       f->what == LWFP_LW_RULE_CONTEXT ||
		       (f->what == LWFP_LW_COMM && f->len == 16);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].format == f->format && formats[i].len == f->len)
			return (f->what == LWFP_LW_ORIG_DST ||
				f->what == LWFP_LW_LOCAL) ==
			       (f->format < LWFP_LF_LE);
	return false;
}

/* The blob, copied where its structs are aligned. */
union aligned_blob {
	struct lwfp_layout l;
	uint8_t bytes[LAYOUT_BLOB_MAX];
	uint64_t align;
};

static int check_aligned(const struct lwfp_layout *l, size_t len)
{
	size_t fields, data;

	if (len < sizeof(*l) || l->magic != LWFP_LAYOUT_MAGIC ||
	    !l->size || l->size > LWFP_RULE_CTX_MAX ||
	    l->nfields > LWFP_LAYOUT_FIELDS_MAX)
		return -EBADMSG;
	fields = l->nfields * sizeof(l->field[0]);
	if (len < sizeof(*l) + fields)
		return -EBADMSG;
	data = len - sizeof(*l) - fields;
	for (unsigned int i = 0; i < l->nfields; i++) {
		const struct lwfp_layout_field *f = &l->field[i];

		if ((size_t)f->offset + f->len > l->size ||
		    f->what > LWFP_LW_COMM || !field_len_ok(f) ||
		    (f->what == LWFP_LW_BYTES &&
		     (size_t)f->arg + f->len > data))
			return -EBADMSG;
	}
	return 0;
}

/* blob copied where its fields are aligned, if it checks out; NULL and
 * *err (-EBADMSG, -ENOMEM) if not. */
static union aligned_blob *aligned_checked(const void *blob, size_t len,
					   int *err)
{
	union aligned_blob *a;

	*err = -EBADMSG;
	if (len > LAYOUT_BLOB_MAX)
		return NULL;
	a = malloc(sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(a->bytes, blob, len);
	*err = check_aligned(&a->l, len);
	if (*err) {
		free(a);
		return NULL;
	}
	return a;
}

int layout_check(const void *blob, size_t len)
{
	int ret;

	free(aligned_checked(blob, len, &ret));
	return ret;
}

/* An address in the field's format, into out (f->len bytes). */
static void put_addr(uint8_t *out, const struct lwfp_layout_field *f,
		     const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in6 m = { .sin6_family = AF_INET6 };
	bool v4 = ss->ss_family == AF_INET;

	if (v4) {	/* v4-mapped, where the format holds only IPv6 */
		m.sin6_port = in4->sin_port;
		m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m.sin6_addr.s6_addr[12], &in4->sin_addr, 4);
	} else {
		m = *in6;
	}
	switch (f->format) {
	case LWFP_LF_SOCKADDR_STORAGE:
	case LWFP_LF_SOCKADDR_INET:
		memcpy(out, ss, v4 ? sizeof(*in4) : sizeof(*in6));
		break;
	case LWFP_LF_SOCKADDR_IN6:
		memcpy(out, &m, sizeof(m));
		break;
	case LWFP_LF_ADDR16:
		memcpy(out, &m.sin6_addr, 16);
		break;
	case LWFP_LF_ADDR4:	/* IPv4, v4-mapped too (a dual-stack socket's) */
		if (v4 || IN6_IS_ADDR_V4MAPPED(&m.sin6_addr))
			memcpy(out, &m.sin6_addr.s6_addr[12], 4);
		break;
	case LWFP_LF_PORT:
		memcpy(out, &m.sin6_port, 2);
		break;
	}
}

static void put_int(uint8_t *out, const struct lwfp_layout_field *f,
		    uint64_t v)
{
	for (unsigned int i = 0; i < f->len; i++) {
		unsigned int shift = 8 * (f->format == LWFP_LF_BE ?
					  f->len - 1 - i : i);

		out[i] = (uint8_t)(shift < 64 ? v >> shift : 0);
	}
}

static uint64_t int_value(const struct layout_values *v, unsigned int what)
{
	switch (what) {
	case LWFP_LW_PID:
		return v->pid;
	case LWFP_LW_UID:
		return v->uid;
	case LWFP_LW_GID:
		return v->gid;
	case LWFP_LW_RULE_ID:
		return v->rule_id;
	default:
		return v->protocol;
	}
}

/* Render the checked, aligned layout l into o (l->size bytes). */
static void render_aligned(const struct lwfp_layout *l,
			   const struct layout_values *v, uint8_t *o)
{
	const uint8_t *data = (const uint8_t *)&l->field[l->nfields];

	memset(o, 0, l->size);
	for (unsigned int i = 0; i < l->nfields; i++) {
		const struct lwfp_layout_field *f = &l->field[i];
		uint8_t *at = o + f->offset;

		if (f->what == LWFP_LW_BYTES)
			memcpy(at, data + f->arg, f->len);
		else if (f->what == LWFP_LW_RULE_CONTEXT && v->rule_context)
			memcpy(at, v->rule_context,
			       v->rule_context_len < f->len ?
				       v->rule_context_len : f->len);
		else if (f->what == LWFP_LW_RULE_CONTEXT)
			continue;	/* the rule has none: zeros */
		else if (f->what == LWFP_LW_COMM)
			memcpy(at, v->comm, sizeof(v->comm));
		else if (f->what == LWFP_LW_ORIG_DST)
			put_addr(at, f, &v->orig_dst);
		else if (f->what == LWFP_LW_LOCAL)
			put_addr(at, f, &v->local);
		else
			put_int(at, f, int_value(v, f->what));
	}
}

int layout_render(const void *blob, size_t blob_len,
		  const struct layout_values *v, void *out, size_t *len)
{
	int ret;
	union aligned_blob *a = aligned_checked(blob, blob_len, &ret);

	if (!a)
		return ret;
	if (*len < a->l.size)
		ret = -ERANGE;
	else
		render_aligned(&a->l, v, out);
	*len = a->l.size;
	free(a);
	return ret;
}
