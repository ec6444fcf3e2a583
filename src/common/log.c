/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <pthread.h>

#include "common/log.h"
#include "common/safe-text.h"

static int log_level = KYSO_LOG_INFO;
static int log_syslog;
static const char *log_ident = "kyso";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void kyso_log_init(const char *ident, int use_syslog, int level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void kyso_log_set_level(int level)
{
	log_level = level;
}

int kyso_log_level_parse(const char *name)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return (int)i;
	return -1;
}

void kyso_log(int level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char raw[1024], msg[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* fields come from outside (request paths, executable names): one
	 * line, no terminal escapes */
	kyso_text_log_escape(raw, msg, sizeof(msg));

	if (log_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s[%s]: %s\n", log_ident, tag[level], msg);
	pthread_mutex_unlock(&log_lock);
}
