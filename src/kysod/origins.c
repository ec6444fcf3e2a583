/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "kysod/origins.h"
#include "kysod/peer.h"

/* After any refusal, no pairing dialog for any origin for this long (or the
 * cool-down, if shorter): a page cannot go round many names to raise dialogs. */
#define PAIR_PAUSE_S 10
/* Origins kept of each kind; the rest of a list is ignored, with a warning. */
#define LIST_MAX 1024
#define REFUSED_MAX 64

struct list {
	char **v;
	size_t n;
	unsigned long long stamp;	/* of the files it was read from */
};

struct refusal {
	char origin[KYSO_ORIGIN_MAX];
	long until_ms;		/* monotonic */
};

struct origins {
	pthread_mutex_t lock;
	char *admin_dir;
	char *user_file;
	unsigned int cooldown;
	struct list admin, user;
	struct refusal refused[REFUSED_MAX];
	long pause_until_ms;
	int dialog;			/* a pairing dialog is open */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int origin_valid(const char *s)
{
	const char *p, *host;
	size_t len = strlen(s), i;
	unsigned long port;

	if (len == 0 || len >= KYSO_ORIGIN_MAX)
		return 0;
	if (!strncmp(s, "https://", 8))
		host = s + 8;
	else if (!strncmp(s, "http://", 7))
		host = s + 7;
	else
		return 0;
	p = host;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
				if (*p != ':' && *p != '.')
					return 0;
		if (*p != ']' || p == host + 1)
			return 0;
		p++;
	} else {
		for (; host_char(*p); p++)
			if (*p == '.' && p[1] == '.')
				return 0;	/* an empty label */
		if (p == host || *host == '.' || p[-1] == '.')
			return 0;
	}
	if (!*p)
		return 1;
	if (*p != ':' || !p[1] || p[1] == '0' || strlen(p + 1) > 5)
		return 0;
	for (i = 1; p[i]; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	port = strtoul(p + 1, NULL, 10);
	return port > 0 && port <= 65535;
}

int origin_pairable(const char *s)
{
	static const char *const loopback[] = { "http://localhost", "http://127.0.0.1", "http://[::1]" };
	size_t i, n;

	if (!origin_valid(s))
		return 0;
	if (!strncmp(s, "https://", 8))
		return 1;
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		n = strlen(loopback[i]);
		if (!strncmp(s, loopback[i], n) && (!s[n] || s[n] == ':'))
			return 1;
	}
	return 0;
}

static void list_clear(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int list_has(const struct list *l, const char *origin)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], origin))
			return 1;
	return 0;
}

static int list_add(struct list *l, const char *origin)
{
	char **grown;

	if (list_has(l, origin))
		return 0;
	if (l->n >= LIST_MAX)
		return -1;
	grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	l->v = grown;
	l->v[l->n] = strdup(origin);
	if (!l->v[l->n])
		return -1;
	l->n++;
	return 0;
}

/* What identifies a file's version: its inode, size and change time. */
static unsigned long long file_stamp(const struct stat *sb)
{
	unsigned long long h = 1469598103934665603ULL;

	h = (h ^ (unsigned long long)sb->st_ino) * 1099511628211ULL;
	h = (h ^ (unsigned long long)sb->st_size) * 1099511628211ULL;
	h = (h ^ (unsigned long long)sb->st_mtim.tv_sec) * 1099511628211ULL;
	h = (h ^ (unsigned long long)sb->st_mtim.tv_nsec) * 1099511628211ULL;
	return h;
}

/* Reads the origins of one file into l: one a line, '#' or ';' starts a
 * comment line, blanks around are ignored. */
static void read_file(struct list *l, const char *path)
{
	char line[KYSO_ORIGIN_MAX + 64], *p, *end;
	int n = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			int c;

			while ((c = getc(f)) != EOF && c != '\n')
				;
			log_warn("%s:%d: line too long, ignored", path, n);
			continue;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		end = p + strcspn(p, "\r\n");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (!origin_valid(p)) {
			log_warn("%s:%d: not a web origin (scheme://host[:port], lowercase), ignored",
				 path, n);
			continue;
		}
		if (list_add(l, p))
			log_warn("%s:%d: more than %d origins, the rest ignored", path, n, LIST_MAX);
	}
	fclose(f);
}

static int conf_name(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".conf");
}

/* The admin's directory, read again when any of its files changed. Lock held. */
static void admin_refresh(struct origins *o)
{
	struct dirent **names = NULL;
	unsigned long long stamp = 1;
	char path[PATH_MAX];
	struct stat sb;
	int i, n;

	n = scandir(o->admin_dir, &names, conf_name, alphasort);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", o->admin_dir, names[i]->d_name);
		if (!stat(path, &sb))
			stamp = (stamp ^ file_stamp(&sb)) * 1099511628211ULL;
	}
	if (stamp != o->admin.stamp) {
		list_clear(&o->admin);
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s", o->admin_dir, names[i]->d_name);
			read_file(&o->admin, path);
		}
		o->admin.stamp = stamp;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The user's pairings, read again when the file changed. Lock held. */
static void user_refresh(struct origins *o)
{
	unsigned long long stamp = 0;
	struct stat sb;

	if (!stat(o->user_file, &sb))
		stamp = file_stamp(&sb);
	if (stamp == o->user.stamp && (stamp || !o->user.n))
		return;
	list_clear(&o->user);
	if (stamp)
		read_file(&o->user, o->user_file);
	o->user.stamp = stamp;
}

/* Makes the directories above path (0700) that do not exist yet. */
static int make_parents(const char *path)
{
	char dir[PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Writes the user's list to its file: a new file renamed over the old one. Lock held. */
static int user_save(struct origins *o, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat sb;
	size_t i;
	FILE *f;
	int fd;

	if (make_parents(o->user_file)) {
		snprintf(err, errlen, "%s: %s", o->user_file, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->user_file);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	fprintf(f, "# Web sites allowed to use kyso's loopback listener, one origin a line.\n"
		"# Written by kysod when you allow a site; see `kyso origins`.\n");
	for (i = 0; i < o->user.n; i++)
		fprintf(f, "%s\n", o->user.v[i]);
	if (fflush(f) || fsync(fileno(f))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, o->user_file)) {
		snprintf(err, errlen, "%s: %s", o->user_file, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (!stat(o->user_file, &sb))
		o->user.stamp = file_stamp(&sb);
	return 0;
}

struct origins *origins_new(const char *admin_dir, const char *user_file, unsigned int cooldown)
{
	struct origins *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->admin_dir = strdup(admin_dir);
	o->user_file = strdup(user_file);
	if (!o->admin_dir || !o->user_file) {
		free(o->admin_dir);
		free(o->user_file);
		free(o);
		return NULL;
	}
	o->cooldown = cooldown;
	o->admin.stamp = 0;
	pthread_mutex_init(&o->lock, NULL);
	return o;
}

void origins_free(struct origins *o)
{
	if (!o)
		return;
	list_clear(&o->admin);
	list_clear(&o->user);
	free(o->admin_dir);
	free(o->user_file);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

const char *origins_allowed(struct origins *o, const char *origin)
{
	const char *source = NULL;

	pthread_mutex_lock(&o->lock);
	admin_refresh(o);
	user_refresh(o);
	if (list_has(&o->admin, origin))
		source = "admin";
	else if (list_has(&o->user, origin))
		source = "user";
	pthread_mutex_unlock(&o->lock);
	return source;
}

/* The refusal entry of origin, or NULL. Lock held. */
static struct refusal *refusal_of(struct origins *o, const char *origin)
{
	size_t i;

	for (i = 0; i < REFUSED_MAX; i++)
		if (o->refused[i].origin[0] && !strcmp(o->refused[i].origin, origin))
			return &o->refused[i];
	return NULL;
}

int origins_allow(struct origins *o, const char *origin, char *err, size_t errlen)
{
	struct refusal *r;
	int ret = -1;

	pthread_mutex_lock(&o->lock);
	user_refresh(o);
	r = refusal_of(o, origin);
	if (r)
		memset(r, 0, sizeof(*r));
	if (list_has(&o->user, origin)) {
		ret = 0;
		goto out;
	}
	if (list_add(&o->user, origin)) {
		snprintf(err, errlen, "no room for another pairing (at most %d)", LIST_MAX);
		goto out;
	}
	ret = user_save(o, err, errlen);
out:
	pthread_mutex_unlock(&o->lock);
	return ret;
}

int origins_revoke(struct origins *o, const char *origin, char *err, size_t errlen)
{
	struct refusal *r;
	int ret = 1;
	size_t i;

	pthread_mutex_lock(&o->lock);
	user_refresh(o);
	r = refusal_of(o, origin);
	if (r) {
		memset(r, 0, sizeof(*r));
		ret = 0;
	}
	for (i = 0; i < o->user.n; i++) {
		if (strcmp(o->user.v[i], origin))
			continue;
		free(o->user.v[i]);
		memmove(&o->user.v[i], &o->user.v[i + 1], (o->user.n - i - 1) * sizeof(char *));
		o->user.n--;
		ret = user_save(o, err, errlen);
		break;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

json_t *origins_list(struct origins *o)
{
	json_t *list = json_array(), *refused = json_array();
	long now = now_ms();
	size_t i;

	pthread_mutex_lock(&o->lock);
	admin_refresh(o);
	user_refresh(o);
	for (i = 0; i < o->admin.n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "origin", o->admin.v[i],
						      "source", "admin"));
	for (i = 0; i < o->user.n; i++)
		if (!list_has(&o->admin, o->user.v[i]))
			json_array_append_new(list, json_pack("{s:s, s:s}", "origin", o->user.v[i],
							      "source", "user"));
	for (i = 0; i < REFUSED_MAX; i++)
		if (o->refused[i].origin[0] && o->refused[i].until_ms > now)
			json_array_append_new(refused, json_pack("{s:s, s:I}", "origin",
								 o->refused[i].origin, "retry_after",
								 (json_int_t)((o->refused[i].until_ms - now + 999) / 1000)));
	pthread_mutex_unlock(&o->lock);
	return json_pack("{s:o, s:o}", "origins", list, "refused", refused);
}

enum pair_gate origins_pair_begin(struct origins *o, const char *origin, unsigned int *retry_after)
{
	enum pair_gate g = PAIR_GO;
	struct refusal *r;
	long now = now_ms();

	*retry_after = 0;
	pthread_mutex_lock(&o->lock);
	r = refusal_of(o, origin);
	if (r && r->until_ms > now) {
		g = PAIR_COOLDOWN;
		*retry_after = (unsigned int)((r->until_ms - now + 999) / 1000);
	} else if (o->dialog) {
		g = PAIR_BUSY;
		*retry_after = 1;
	} else if (o->pause_until_ms > now) {
		g = PAIR_PAUSED;
		*retry_after = (unsigned int)((o->pause_until_ms - now + 999) / 1000);
	} else {
		o->dialog = 1;
	}
	pthread_mutex_unlock(&o->lock);
	return g;
}

void origins_pair_end(struct origins *o, const char *origin, int allowed)
{
	struct refusal *r, *oldest;
	long now = now_ms(), pause;
	size_t i;

	pthread_mutex_lock(&o->lock);
	o->dialog = 0;
	if (!allowed) {
		r = refusal_of(o, origin);
		/* a new one replaces a free or expired entry, else the one ending first */
		for (i = 0, oldest = &o->refused[0]; !r && i < REFUSED_MAX; i++) {
			if (!o->refused[i].origin[0] || o->refused[i].until_ms <= now) {
				r = &o->refused[i];
				break;
			}
			if (o->refused[i].until_ms < oldest->until_ms)
				oldest = &o->refused[i];
		}
		if (!r)
			r = oldest;
		snprintf(r->origin, sizeof(r->origin), "%s", origin);
		r->until_ms = now + (long)o->cooldown * 1000L;
		pause = o->cooldown < PAIR_PAUSE_S ? (long)o->cooldown : PAIR_PAUSE_S;
		o->pause_until_ms = now + pause * 1000L;
	}
	pthread_mutex_unlock(&o->lock);
}
