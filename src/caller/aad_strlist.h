/* aad_strlist.h - a list of strings (domains, groups, roles, names read from
 * a file): libc only.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_STRLIST_H
#define AAD_STRLIST_H

#include <stddef.h>

struct aad_strlist {
    char **items;
    size_t count;
};

/* Appends the first len bytes of s; 0 or -1 (out of memory). */
int aad_strlist_add(struct aad_strlist *list, const char *s, size_t len);
void aad_strlist_clear(struct aad_strlist *list);

/* Replaces list with the words of value, split on commas and white space;
 * an empty value empties it. 0 or -1 (out of memory). */
int aad_strlist_parse(const char *value, struct aad_strlist *list);

/* "a, b, c" into buf (cut at its size; "" for an empty list). */
void aad_strlist_join(const struct aad_strlist *list, char *buf, size_t size);

/* True when list holds s (ASCII case-insensitive when nocase). */
int aad_strlist_contains(const struct aad_strlist *list, const char *s, int nocase);

#endif
