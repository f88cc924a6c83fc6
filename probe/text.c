#include "probe/text.h"

#include <stdio.h>
#include <string.h>

size_t ms_text_sanitize(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        size_t need = (c >= 0x20 && c <= 0x7e) ? 1 : 4;
        if (out + need + 1 > cap) {
            if (cap >= 4) {
                out = out > cap - 4 ? cap - 4 : out;
                memcpy(dst + out, "...", 3);
                out += 3;
            }
            break;
        }
        if (need == 1) {
            dst[out++] = (char)c;
        } else {
            dst[out++] = '\\';
            dst[out++] = 'x';
            dst[out++] = hex[c >> 4];
            dst[out++] = hex[c & 15];
        }
    }
    dst[out] = '\0';
    return out;
}
