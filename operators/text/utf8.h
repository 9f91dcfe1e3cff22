/* utf8.h — decoding and encoding one UTF-8 code point (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), for the string
 * operators. Header-only, no allocation.
 */
#ifndef ORTC_TEXT_UTF8_H
#define ORTC_TEXT_UTF8_H

#include <stdint.h>

/* The code point at s (NUL-terminated) in *cp; returns its length in
 * bytes (1..4), or 0 when s does not start with a valid sequence. */
static inline int ortc_utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    int len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (!len || b > 0xf4)
        return 0;
    uint32_t v = b & (0x7fu >> len);
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) /* also stops at the terminator */
            return 0;
        v = (v << 6) | (s[k] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Bytes ortc_utf8_encode writes for cp (a valid code point). */
static inline int ortc_utf8_length(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Writes cp at out; returns the byte count. */
static inline int ortc_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

#endif /* ORTC_TEXT_UTF8_H */
