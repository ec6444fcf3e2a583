/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for kysod and its helpers: stderr in the foreground, syslog otherwise.
 * Never pass a PIN, a key or any other secret to these functions. */
#ifndef KYSO_LOG_H
#define KYSO_LOG_H

enum kyso_log_level {
	KYSO_LOG_ERROR,
	KYSO_LOG_WARNING,
	KYSO_LOG_INFO,
	KYSO_LOG_DEBUG,
};

void kyso_log_init(const char *ident, int use_syslog, int level);
void kyso_log_set_level(int level);
int kyso_log_level_parse(const char *name);
void kyso_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) kyso_log(KYSO_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) kyso_log(KYSO_LOG_WARNING, __VA_ARGS__)
#define log_info(...) kyso_log(KYSO_LOG_INFO, __VA_ARGS__)
#define log_debug(...) kyso_log(KYSO_LOG_DEBUG, __VA_ARGS__)

#endif
