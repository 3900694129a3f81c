/* The few board services the demo needs. board_mps2.c implements them for
 * QEMU's MPS2 boards (Cortex-M4F, M7, M33) with Arm semihosting; on a real board, write
 * console_write for its UART and board_exit as a reset or a halt.
 */
#ifndef EDGEGEN_CORTEX_M_BOARD_H_
#define EDGEGEN_CORTEX_M_BOARD_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a NUL-terminated string to the console. */
void console_write(const char* text);

/* printf-style formatting into a 256-byte line buffer, then console_write.
 * Integers and strings only: the demo prints floats as their bits. */
void console_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

/* Ends the program: status 0 is success. Under QEMU the emulator exits with
 * 0 for status 0 and 1 otherwise. */
void board_exit(int status) __attribute__((noreturn));

/* "Secure" or "Non-secure": the state the core runs in, on a core with
 * TrustZone (Armv8-M: Cortex-M33); NULL on one without. */
const char* board_security_state(void);

/* Fills the unused part of the stack with a pattern; stack_bytes_used() then
 * reports the deepest the stack has reached since. */
void stack_paint(void);
size_t stack_bytes_used(void);
size_t stack_bytes_total(void);

/* Bytes handed out by _sbrk (the heap malloc draws from) and its capacity.
 * The demo shows that edgegen with a static arena never calls malloc. */
size_t heap_bytes_used(void);
size_t heap_bytes_total(void);

#ifdef __cplusplus
}
#endif

#endif /* EDGEGEN_CORTEX_M_BOARD_H_ */
