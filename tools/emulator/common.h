/* SPDX-License-Identifier: Apache-2.0 */
/* trakt-oauth-emulator: the program's name and version, and the sizes that
 * several of its files agree on (a code's and a token's length, a URL's room,
 * a second in nanoseconds). Nothing here calls anything. */
#ifndef EMU_COMMON_H
#define EMU_COMMON_H

#include <stdint.h>

#include "traktdeviceauth_version.h"

#define EMU_NAME "trakt-oauth-emulator"
#define EMU_VERSION TDA_VERSION_STRING /* from project() in CMakeLists.txt */

#define EMU_NS_PER_SEC INT64_C(1000000000)

#define EMU_SECRET_BYTES 32 /* 64 hex characters */
#define EMU_SECRET_HEX (EMU_SECRET_BYTES * 2)
#define EMU_USER_CODE_LEN 8
#define EMU_URL_MAX 2048

#endif
