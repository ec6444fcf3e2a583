/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KYSO_P11_CRASH_REPORT_H
#define KYSO_P11_CRASH_REPORT_H

/* Installs handlers for the fatal signals that write the stack to stderr and
 * then end the process with the same signal. */
void crash_report_install(void);

#endif
