/* aad_qr.h - the verification URL as a QR code for a terminal.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_QR_H
#define AAD_QR_H

#define AAD_QR_MAX_COLUMNS 80

/* Renders text as a QR code of UTF-8 half blocks (two modules per line, so
 * it stays square), light modules drawn, for the usual dark-background
 * terminal, with a quiet zone. Returns a malloc'd string of lines ending in
 * '\n', or NULL when QR support is not built in or the code would be wider
 * than AAD_QR_MAX_COLUMNS. */
char *aad_qr_render(const char *text);

/* True when this build can render QR codes. */
int aad_qr_available(void);

#endif
