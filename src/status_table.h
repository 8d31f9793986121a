/*
 * The one table of statuses: tda_strerror, tda_status_name and the
 * transient/final classes are all made from it (libuv's UV_ERRNO_MAP idea).
 * Columns: name, kind, message. kind is one of
 *   FLOW      part of a normal flow (OK, pending, slow down)
 *   TRANSIENT waiting and trying again can help; polling retries these
 *   FINAL     ends a flow at once; retrying the same request cannot help
 * Changing how polling treats a status means changing its kind here.
 */
#define TDA_STATUS_TABLE(X)                                                                         \
    X(OK, FLOW, "success")                                                                          \
    X(PENDING, FLOW, "the user has not entered the code yet")                                       \
    X(SLOW_DOWN, FLOW, "too many requests: slow down")                                              \
    X(DENIED, FINAL, "the user denied access")                                                      \
    X(EXPIRED, FINAL, "the code expired before the user entered it: get a new code")                \
    X(ALREADY_USED, FINAL, "a token was already issued for this code: get a new code")              \
    X(INVALID_DEVICE_CODE, FINAL, "the device code is not known to the server")                     \
    X(INVALID_GRANT, FINAL, "the refresh token is no longer valid: the user must authorize again")  \
    X(FORBIDDEN, FINAL, "forbidden: bad client id or secret, unapproved app, or blocked by Cloudflare") \
    X(SERVER_ERROR, TRANSIENT, "the server reported an internal error")                             \
    X(OVERLOADED, TRANSIENT, "the server is overloaded: try again later")                           \
    X(CLOUDFLARE, TRANSIENT, "Cloudflare could not reach the server")                               \
    X(UNEXPECTED_STATUS, FINAL, "the server answered with an unexpected HTTP status")               \
    X(NETWORK, TRANSIENT, "network error: could not reach the server or the connection dropped")    \
    X(BAD_RESPONSE, FINAL, "the server's answer was malformed")                                     \
    X(TIMED_OUT, TRANSIENT, "the request timed out")                                                \
    X(CANCELLED, FINAL, "cancelled")                                                                \
    X(INVALID_ARGUMENT, FINAL, "invalid argument")                                                  \
    X(NO_MEMORY, FINAL, "out of memory")                                                            \
    X(IO, FINAL, "input/output error")                                                              \
    X(DEADLINE, FINAL, "the caller's deadline passed before the user approved")                   \
    X(TLS, FINAL, "TLS failed: the certificate could not be verified, or the server does not speak TLS") \
    X(FILE_MISSING, FINAL, "no token file: log in first")                                         \
    X(FILE_INSECURE, FINAL, "the token file is a symlink, not yours, or readable by others")      \
    X(FILE_CORRUPT, FINAL, "the token file does not hold a valid token")                          \
    X(WRONG_CLIENT, FINAL, "the saved token belongs to another client id")                        \
    X(LOCKED, TRANSIENT, "another process holds the token's lock: try again later")              \
    X(NO_SPACE, FINAL, "no room to save the token: the disk or a quota is full")                  \
    X(UNSUPPORTED, FINAL, "this build of the library was made without that feature")
