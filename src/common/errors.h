/* The API's stable error codes and the HTTP status each one is answered with. */
#ifndef KYSO_ERRORS_H
#define KYSO_ERRORS_H

/* HTTP status for an error code; 500 for a code not in the table. */
unsigned int kyso_error_status(const char *code);

/* Whether code is one of the documented error codes. */
int kyso_error_known(const char *code);

#endif
