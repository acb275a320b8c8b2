// memcached's text protocol: see kvproto.h. The rules for bad input
// (which error, and whether the line's data block is read) are
// memcached 1.6.18's, found by sending it the same bytes.

#include "ix/apps/kvproto.h"

#include "lib/string.h"

#define MAX_TOKENS 24           // memcached's: 23 words and a terminator

struct tok {
	const char *s;
	size_t n;
};

static bool is_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

static bool tok_is(const struct tok *t, const char *word)
{
	return t->n == strlen(word) && memcmp(t->s, word, t->n) == 0;
}

// ---------------------------------------------------------------------
// Numbers, as memcached reads them (the C library's strtoull or strtol
// in its safe_strto* wrappers): white space, a sign, decimal digits,
// then the end of the token or white space; a number out of range is
// refused. A negative number is refused as unsigned unless it wraps to
// a value below 2^63 ("-0" is 0). memcached keeps 64 bits and stores
// the low 32 in 32-bit fields: flags 4294967296 is 0, exptime
// 4294967295 is -1.

// The number in s[0, n) (followed by a terminator or white space):
// its bits in *out; signed: strtol's range, else strtoull's.
static bool parse_number(const char *s, size_t n, bool is_signed, uint64_t *out)
{
	size_t i = 0;
	bool neg = false, range = false;
	uint64_t v = 0;

	while (i < n && is_space(s[i]))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	size_t first = i;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			range = true;
		v = v * 10 + d;
	}
	if (i == first || range || (i < n && !is_space(s[i])))
		return false;
	if (is_signed && v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	*out = neg ? -v : v;
	return is_signed || !neg || (int64_t)*out >= 0;
}

static bool tok_u64(const struct tok *t, uint64_t *out)
{
	return parse_number(t->s, t->n, false, out);
}

static bool tok_u32(const struct tok *t, uint32_t *out)
{
	uint64_t v;

	if (!parse_number(t->s, t->n, false, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool tok_i32(const struct tok *t, int32_t *out)
{
	uint64_t v;

	if (!parse_number(t->s, t->n, true, &v))
		return false;
	*out = (int32_t)(uint32_t)v;
	return true;
}

// Writes v in decimal at buf (21 bytes); returns the length.
static size_t put_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

// The store's time for a client's exptime (memcached's realtime).
static kv_time_t exptime_to_time(const struct kv_server *srv, int32_t exptime)
{
	const kv_time_t expired = 1;    // the server's time is 1 or more

	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return expired;
	if (exptime > KV_MAX_EXPTIME) {
		if (exptime <= srv->unix_start)
			return expired;
		return (kv_time_t)(exptime - srv->unix_start);
	}
	return srv->now + (kv_time_t)exptime;
}

// ---------------------------------------------------------------------
// Replies.

static void emit(struct kv_conn *c, const struct kv_out *out, const void *data, size_t len)
{
	if (!c->write_failed && !out->write(out->arg, data, len))
		c->write_failed = true;
}

static void emit_text(struct kv_conn *c, const struct kv_out *out, const char *text)
{
	emit(c, out, text, strlen(text));
}

// A one-line reply, unless the command said noreply.
static void reply(struct kv_conn *c, const struct kv_out *out, const char *text)
{
	if (c->noreply)
		return;
	emit_text(c, out, text);
	emit_text(c, out, "\r\n");
}

// memcached's set_noreply_maybe: the last word is "noreply".
static void check_noreply(struct kv_conn *c, const struct tok *t, int ntok)
{
	c->noreply = tok_is(&t[ntok - 2], "noreply");
}

// ---------------------------------------------------------------------
// Storage commands: the command line, then the data block.

static void drop_key(struct kv_conn *c, const struct tok *key)
{
	struct kv_item *old = kv_find(&c->srv->store, key->s, key->n, c->srv->now, false);

	if (old != NULL)
		kv_unlink(&c->srv->store, old);
}

// set, add, replace, append, prepend: KEY FLAGS EXPTIME BYTES [noreply];
// cas: KEY FLAGS EXPTIME BYTES CAS [noreply].
static void run_update(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok,
		       enum kv_store_cmd cmd)
{
	struct kv_server *srv = c->srv;
	uint32_t flags;
	int32_t exptime, vlen;
	uint64_t cas = 0;

	check_noreply(c, t, ntok);
	if (t[1].n > KV_KEY_MAX || !tok_u32(&t[2], &flags) || !tok_i32(&t[3], &exptime) ||
	    !tok_i32(&t[4], &vlen) || (cmd == KV_CAS && !tok_u64(&t[5], &cas)) ||
	    vlen < 0 || vlen > INT32_MAX - 2) {
		reply(c, out, "CLIENT_ERROR bad command line format");
		return;
	}
	struct kv_item *it = NULL;
	if (kv_item_fits(t[1].n, (size_t)vlen))
		it = kv_item_alloc(&srv->store, t[1].s, t[1].n, flags, exptime_to_time(srv, exptime),
				   (uint32_t)vlen, srv->now);
	if (it == NULL) {
		// The block is read and dropped; a set leaves no stale value.
		reply(c, out, kv_item_fits(t[1].n, (size_t)vlen) ?
		      "SERVER_ERROR out of memory storing object" :
		      "SERVER_ERROR object too large for cache");
		if (cmd == KV_SET)
			drop_key(c, &t[1]);
		c->swallow = (uint32_t)vlen + 2;
		c->state = KV_SWALLOW;
		return;
	}
	c->item = it;
	c->cmd = cmd;
	c->cas = cas;
	c->have = 0;
	c->state = KV_DATA;
}

// append, prepend: old's value with it's after or before, in a new
// item with old's flags and exptime; NULL without memory.
static struct kv_item *concatenate(struct kv_server *srv, struct kv_item *it, bool append)
{
	struct kv_item *old = kv_find(&srv->store, kv_item_key(it), it->nkey, srv->now, true);

	if (old == NULL)
		return NULL;
	uint32_t nold = old->nbytes;
	struct kv_item *both = kv_item_alloc(&srv->store, kv_item_key(it), it->nkey, old->flags,
					     old->exptime, nold + it->nbytes, srv->now);
	// The allocation may have evicted old: look again.
	old = kv_find(&srv->store, kv_item_key(it), it->nkey, srv->now, false);
	if (both == NULL || old == NULL) {
		if (both != NULL)
			kv_item_free(&srv->store, both);
		return NULL;
	}
	memcpy(kv_item_value(both) + (append ? 0 : it->nbytes), kv_item_value(old), nold);
	memcpy(kv_item_value(both) + (append ? nold : 0), kv_item_value(it), it->nbytes);
	return both;
}

// The data block is in: store the item as the command says.
static void complete_update(struct kv_conn *c, const struct kv_out *out)
{
	struct kv_server *srv = c->srv;
	struct kv_store *s = &srv->store;
	struct kv_item *it = c->item;

	c->item = NULL;
	c->state = KV_LINE;
	if (c->crlf[0] != '\r' || c->crlf[1] != '\n') {
		kv_item_free(s, it);
		reply(c, out, "CLIENT_ERROR bad data chunk");
		return;
	}
	// BEGIN LAB 10 SOLUTION: kv_update
	struct kv_item *old = kv_find(s, kv_item_key(it), it->nkey, srv->now, false);
	struct kv_item *keep = NULL;
	const char *result = "STORED";

	srv->stats.cmd_set++;
	switch (c->cmd) {
	case KV_SET:
		keep = it;
		break;
	case KV_ADD:
		keep = old == NULL ? it : NULL;
		break;
	case KV_REPLACE:
		keep = old != NULL ? it : NULL;
		break;
	case KV_APPEND:
	case KV_PREPEND:
		keep = concatenate(srv, it, c->cmd == KV_APPEND);
		break;
	case KV_CAS:
		if (old == NULL) {
			srv->stats.cas_misses++;
			result = "NOT_FOUND";
		} else if (old->cas != c->cas) {
			srv->stats.cas_badval++;
			result = "EXISTS";
		} else {
			srv->stats.cas_hits++;
			keep = it;
		}
		break;
	}
	if (keep != it)
		kv_item_free(s, it);
	if (keep != NULL)
		kv_link(s, keep, srv->now);
	else if (c->cmd != KV_CAS)
		result = "NOT_STORED";
	reply(c, out, result);
	// STUB:
	// kv_item_free(s, it);
	// (void)srv, (void)concatenate;
	// reply(c, out, "SERVER_ERROR LAB 10: complete_update not written");
	// END LAB 10
}

// Takes bytes of the data block: the value, then "\r\n".
static size_t take_data(struct kv_conn *c, const char *data, size_t len, const struct kv_out *out)
{
	struct kv_item *it = c->item;
	size_t used = 0;

	while (used < len && c->have < it->nbytes + 2) {
		if (c->have < it->nbytes) {
			size_t n = it->nbytes - c->have;
			if (n > len - used)
				n = len - used;
			memcpy(kv_item_value(it) + c->have, data + used, n);
			c->have += (uint32_t)n;
			used += n;
		} else {
			c->crlf[c->have++ - it->nbytes] = data[used++];
		}
	}
	if (c->have == it->nbytes + 2)
		complete_update(c, out);
	return used;
}

// ---------------------------------------------------------------------
// Retrieval: get and gets KEY..., answered one key at a time so that
// the output never holds much more than out's limit.

static void start_get(struct kv_conn *c, const struct kv_out *out, const struct tok *t, bool cas)
{
	// A key too long is an error for the whole line (no VALUE before it).
	for (const char *p = t[1].s; *p != '\0'; ) {
		size_t n = 0;
		while (p[n] != ' ' && p[n] != '\0')
			n++;
		if (n > KV_KEY_MAX) {
			reply(c, out, "CLIENT_ERROR bad command line format");
			return;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	c->get_next = (size_t)(t[1].s - c->line);
	c->get_cas = cas;
	c->state = KV_GET;
}

// Answers the next key of the get, or ends it with END.
static void get_step(struct kv_conn *c, const struct kv_out *out)
{
	struct kv_server *srv = c->srv;
	const char *key = c->line + c->get_next;
	size_t n = 0;

	while (key[n] != ' ' && key[n] != '\0')
		n++;
	if (n == 0) {
		emit_text(c, out, "END\r\n");
		c->state = KV_LINE;
		return;
	}
	c->get_next += n;
	while (c->line[c->get_next] == ' ')
		c->get_next++;
	srv->stats.cmd_get++;
	struct kv_item *it = kv_find(&srv->store, key, n, srv->now, true);
	if (it == NULL) {
		srv->stats.get_misses++;
		return;
	}
	srv->stats.get_hits++;
	char head[KV_KEY_MAX + 80], *p = head;
	memcpy(p, "VALUE ", 6);
	p += 6;
	memcpy(p, key, n);
	p += n;
	*p++ = ' ';
	p += put_u64(p, it->flags);
	*p++ = ' ';
	p += put_u64(p, it->nbytes);
	if (c->get_cas) {
		*p++ = ' ';
		p += put_u64(p, it->cas);
	}
	memcpy(p, "\r\n", 2);
	emit(c, out, head, (size_t)(p + 2 - head));
	emit(c, out, kv_item_value(it), it->nbytes);
	emit_text(c, out, "\r\n");
}

// ---------------------------------------------------------------------
// The other commands.

// incr, decr: KEY DELTA [noreply]. A result shorter than the value is
// written over it, padded with spaces (as memcached does); a longer one
// takes a new item.
static void run_arith(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok,
		      bool incr)
{
	// BEGIN LAB 10 SOLUTION: kv_arith
	struct kv_server *srv = c->srv;
	uint64_t delta, v;
	char digits[21];

	check_noreply(c, t, ntok);
	if (t[1].n > KV_KEY_MAX) {
		reply(c, out, "CLIENT_ERROR bad command line format");
		return;
	}
	if (!tok_u64(&t[2], &delta)) {
		reply(c, out, "CLIENT_ERROR invalid numeric delta argument");
		return;
	}
	struct kv_item *it = kv_find(&srv->store, t[1].s, t[1].n, srv->now, true);
	if (it == NULL) {
		*(incr ? &srv->stats.incr_misses : &srv->stats.decr_misses) += 1;
		reply(c, out, "NOT_FOUND");
		return;
	}
	if (it->nbytes == 0 || !parse_number(kv_item_value(it), it->nbytes, false, &v)) {
		reply(c, out, "CLIENT_ERROR cannot increment or decrement non-numeric value");
		return;
	}
	*(incr ? &srv->stats.incr_hits : &srv->stats.decr_hits) += 1;
	v = incr ? v + delta : (delta > v ? 0 : v - delta);
	size_t n = put_u64(digits, v);
	if (n <= it->nbytes) {
		memcpy(kv_item_value(it), digits, n);
		memset(kv_item_value(it) + n, ' ', it->nbytes - n);
		kv_new_cas(&srv->store, it);
	} else {
		struct kv_item *bigger = kv_item_alloc(&srv->store, t[1].s, t[1].n, it->flags,
						       it->exptime, (uint32_t)n, srv->now);
		if (bigger == NULL) {
			reply(c, out, "SERVER_ERROR out of memory");
			return;
		}
		memcpy(kv_item_value(bigger), digits, n);
		kv_link(&srv->store, bigger, srv->now);
	}
	reply(c, out, digits);
	// STUB:
	// (void)t, (void)ntok, (void)incr;
	// reply(c, out, "SERVER_ERROR LAB 10: run_arith not written");
	// END LAB 10
}

// delete KEY [0] [noreply]: memcached still takes the old "hold time" 0.
static void run_delete(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok)
{
	struct kv_server *srv = c->srv;

	if (ntok > 3) {
		bool hold_zero = tok_is(&t[2], "0");
		check_noreply(c, t, ntok);
		if (!((ntok == 4 && (hold_zero || c->noreply)) ||
		      (ntok == 5 && hold_zero && c->noreply))) {
			reply(c, out, "CLIENT_ERROR bad command line format.  "
			      "Usage: delete <key> [noreply]");
			return;
		}
	}
	if (t[1].n > KV_KEY_MAX) {
		reply(c, out, "CLIENT_ERROR bad command line format");
		return;
	}
	struct kv_item *it = kv_find(&srv->store, t[1].s, t[1].n, srv->now, false);
	if (it == NULL) {
		srv->stats.delete_misses++;
		reply(c, out, "NOT_FOUND");
		return;
	}
	srv->stats.delete_hits++;
	kv_unlink(&srv->store, it);
	reply(c, out, "DELETED");
}

// touch KEY EXPTIME [noreply]
static void run_touch(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok)
{
	// BEGIN LAB 10 SOLUTION: kv_touch
	struct kv_server *srv = c->srv;
	int32_t exptime;

	check_noreply(c, t, ntok);
	if (t[1].n > KV_KEY_MAX) {
		reply(c, out, "CLIENT_ERROR bad command line format");
		return;
	}
	if (!tok_i32(&t[2], &exptime)) {
		reply(c, out, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	srv->stats.cmd_touch++;
	struct kv_item *it = kv_find(&srv->store, t[1].s, t[1].n, srv->now, true);
	if (it == NULL) {
		srv->stats.touch_misses++;
		reply(c, out, "NOT_FOUND");
		return;
	}
	srv->stats.touch_hits++;
	it->exptime = exptime_to_time(srv, exptime);
	reply(c, out, "TOUCHED");
	// STUB:
	// (void)t, (void)ntok;
	// reply(c, out, "SERVER_ERROR LAB 10: run_touch not written");
	// END LAB 10
}

// flush_all [DELAY] [noreply]: a delay of 0 or less is now.
static void run_flush(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok)
{
	struct kv_server *srv = c->srv;
	int32_t delay = 0;

	check_noreply(c, t, ntok);
	if (ntok != (c->noreply ? 3 : 2) && !tok_i32(&t[1], &delay)) {
		reply(c, out, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	srv->stats.cmd_flush++;
	kv_flush(&srv->store, delay > 0 ? exptime_to_time(srv, delay) : 0, srv->now);
	reply(c, out, "OK");
}

// verbosity LEVEL [noreply]: there is no log; the level is checked only.
static void run_verbosity(struct kv_conn *c, const struct kv_out *out, const struct tok *t,
			  int ntok)
{
	uint32_t level;

	check_noreply(c, t, ntok);
	reply(c, out, tok_u32(&t[1], &level) ? "OK" : "CLIENT_ERROR bad command line format");
}

// stats: the counters (memcached's names); stats reset: zeroes them.
static void run_stats(struct kv_conn *c, const struct kv_out *out, const struct tok *t, int ntok)
{
	struct kv_server *srv = c->srv;
	struct kv_stats *k = &srv->stats;
	const struct kv_store_stats *s = &srv->store.stats;

	if (ntok > 2) {
		if (!tok_is(&t[1], "reset")) {
			reply(c, out, "ERROR");
			return;
		}
		uint64_t curr = k->curr_connections, total = k->total_connections;
		memset(k, 0, sizeof(*k));
		k->curr_connections = curr;
		k->total_connections = total;
		reply(c, out, "RESET");
		return;
	}
	const struct {
		const char *name;
		uint64_t value;
	} stats[] = {
		{ "uptime", srv->now }, { "time", (uint64_t)(srv->unix_start + srv->now) },
		{ "curr_connections", k->curr_connections },
		{ "total_connections", k->total_connections },
		{ "cmd_get", k->cmd_get }, { "cmd_set", k->cmd_set }, { "cmd_flush", k->cmd_flush },
		{ "cmd_touch", k->cmd_touch }, { "get_hits", k->get_hits },
		{ "get_misses", k->get_misses }, { "delete_misses", k->delete_misses },
		{ "delete_hits", k->delete_hits }, { "incr_misses", k->incr_misses },
		{ "incr_hits", k->incr_hits }, { "decr_misses", k->decr_misses },
		{ "decr_hits", k->decr_hits }, { "cas_misses", k->cas_misses },
		{ "cas_hits", k->cas_hits }, { "cas_badval", k->cas_badval },
		{ "touch_hits", k->touch_hits }, { "touch_misses", k->touch_misses },
		{ "limit_maxbytes", (uint64_t)(srv->store.end - srv->store.next_page) +
		  s->pages * KV_PAGE_SIZE },
		{ "bytes", s->bytes }, { "curr_items", s->items }, { "total_items", s->total_items },
		{ "evictions", s->evictions }, { "reclaimed", s->reclaimed },
	};
	char line[80];

	emit_text(c, out, "STAT version " KV_VERSION "\r\n");
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		size_t n = strlen(stats[i].name);
		memcpy(line, "STAT ", 5);
		memcpy(line + 5, stats[i].name, n);
		line[5 + n] = ' ';
		n += 6;
		n += put_u64(line + n, stats[i].value);
		memcpy(line + n, "\r\n", 2);
		emit(c, out, line, n + 2);
	}
	emit_text(c, out, "END\r\n");
}

// ---------------------------------------------------------------------
// Command lines.

// Splits line at spaces into at most MAX_TOKENS - 1 words; returns
// memcached's count, which includes the terminator.
static int tokenize(char *line, struct tok *t)
{
	int n = 0;
	char *p = line;

	while (n < MAX_TOKENS - 1) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		t[n].s = p;
		while (*p != ' ' && *p != '\0')
			p++;
		t[n].n = (size_t)(p - t[n].s);
		n++;
	}
	return n + 1;
}

// Runs the command line in c->line (NUL-terminated).
static void run_line(struct kv_conn *c, const struct kv_out *out)
{
	struct tok t[MAX_TOKENS];
	int ntok = tokenize(c->line, t);
	// In enum kv_store_cmd's order.
	static const char *const updates[] = { "set", "add", "replace", "append", "prepend" };

	c->noreply = false;
	if (ntok < 2 || t[0].n < 2) {
		reply(c, out, "ERROR");
		return;
	}
	if (tok_is(&t[0], "get") || tok_is(&t[0], "gets")) {
		if (ntok < 3)
			reply(c, out, "ERROR");
		else
			start_get(c, out, t, t[0].n == 4);
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (tok_is(&t[0], updates[i])) {
			if (ntok == 6 || ntok == 7)
				run_update(c, out, t, ntok, (enum kv_store_cmd)i);
			else
				reply(c, out, "ERROR");
			return;
		}
	}
	if (tok_is(&t[0], "cas") && (ntok == 7 || ntok == 8))
		run_update(c, out, t, ntok, KV_CAS);
	else if ((tok_is(&t[0], "incr") || tok_is(&t[0], "decr")) && (ntok == 4 || ntok == 5))
		run_arith(c, out, t, ntok, t[0].s[0] == 'i');
	else if (tok_is(&t[0], "delete") && ntok >= 3 && ntok <= 5)
		run_delete(c, out, t, ntok);
	else if (tok_is(&t[0], "touch") && (ntok == 4 || ntok == 5))
		run_touch(c, out, t, ntok);
	else if (tok_is(&t[0], "stats"))
		run_stats(c, out, t, ntok);
	else if (tok_is(&t[0], "shutdown")) {
		c->srv->shutdown = true;
		c->state = KV_CLOSED;
	} else if (strchr("gsacidt", t[0].s[0]) == NULL && t[ntok - 2].n >= 5 &&
		   memcmp(t[ntok - 2].s, "HTTP/", 5) == 0) {
		// memcached hangs up on what looks like an HTTP request.
		c->state = KV_CLOSED;
	} else if (tok_is(&t[0], "flush_all") && ntok <= 4)
		run_flush(c, out, t, ntok);
	else if (tok_is(&t[0], "version"))
		emit_text(c, out, "VERSION " KV_VERSION "\r\n");
	else if (tok_is(&t[0], "quit"))
		c->state = KV_CLOSED;
	else if (tok_is(&t[0], "verbosity") && (ntok == 3 || ntok == 4))
		run_verbosity(c, out, t, ntok);
	else
		reply(c, out, "ERROR");
}

// Whether the start of a line may grow to KV_LINE_BUF bytes: a get or
// gets after at most 100 spaces (memcached's test).
static bool long_line_ok(const struct kv_conn *c)
{
	size_t i = 0;

	while (i < c->nline && c->line[i] == ' ')
		i++;
	return i <= 100 && ((c->nline - i >= 4 && memcmp(c->line + i, "get ", 4) == 0) ||
			    (c->nline - i >= 5 && memcmp(c->line + i, "gets ", 5) == 0));
}

// Takes bytes of a command line; runs it once its newline is in.
static size_t take_line(struct kv_conn *c, const char *data, size_t len, const struct kv_out *out)
{
	size_t n = 0;

	while (n < len && data[n] != '\n')
		n++;
	if (c->nline + n > KV_LINE_BUF) {
		c->state = KV_CLOSED;
		return len;
	}
	memcpy(c->line + c->nline, data, n);
	c->nline += n;
	if (n == len) {
		if (c->nline > KV_LINE_MAX && !long_line_ok(c))
			c->state = KV_CLOSED;
		return len;
	}
	if (c->nline > 1 && c->line[c->nline - 1] == '\r')
		c->nline--;
	c->line[c->nline] = '\0';       // a NUL before it ends the line too, as in memcached
	c->nline = 0;
	run_line(c, out);
	return n + 1;
}

bool kv_server_init(struct kv_server *srv, void *arena, size_t size, int64_t unix_start)
{
	memset(srv, 0, sizeof(*srv));
	srv->now = 1;
	srv->unix_start = unix_start;
	return kv_store_init(&srv->store, arena, size);
}

void kv_conn_init(struct kv_conn *c, struct kv_server *srv)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	c->state = KV_LINE;
}

size_t kv_conn_input(struct kv_conn *c, const char *data, size_t len, const struct kv_out *out)
{
	size_t used = 0;

	for (;;) {
		if (c->write_failed) {
			kv_conn_release(c);
			c->state = KV_CLOSED;
		}
		if (c->state == KV_CLOSED || out->full(out->arg))
			break;
		if (c->state == KV_GET) {
			get_step(c, out);
			continue;
		}
		if (used == len)
			break;
		if (c->state == KV_LINE) {
			used += take_line(c, data + used, len - used, out);
		} else if (c->state == KV_DATA) {
			used += take_data(c, data + used, len - used, out);
		} else {
			size_t n = len - used < c->swallow ? len - used : c->swallow;
			c->swallow -= (uint32_t)n;
			used += n;
			if (c->swallow == 0)
				c->state = KV_LINE;
		}
	}
	return used;
}

void kv_conn_release(struct kv_conn *c)
{
	if (c->item != NULL) {
		kv_item_free(&c->srv->store, c->item);
		c->item = NULL;
	}
}
