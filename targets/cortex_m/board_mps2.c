/* Board support for QEMU's Arm MPS2 FPGA images, no vendor code needed:
 * mps2-an386 (Cortex-M4, single-precision FPU), mps2-an500 (Cortex-M7,
 * double-precision FPU) and mps2-an505 (Cortex-M33 with TrustZone; the demo
 * stays in the Secure state it resets in, its vector table at the IoTKit's
 * VTOR_S reset value 0x10000000, see mps2_an505.ld). The code is the same for
 * the three; the linker scripts place it.
 *
 *   - the vector table and the reset handler (copy .data, zero .bss, enable
 *     the FPU, run constructors, main, exit),
 *   - a console and exit over Arm semihosting (qemu-system-arm -semihosting),
 *   - a fault handler that reports and exits instead of hanging,
 *   - stack and heap accounting for the demo's report.
 *
 * Semihosting traps into the debugger (here: QEMU) with `bkpt 0xAB`. Without
 * a debugger attached a real Cortex-M faults on it, so on a board replace
 * console_write and board_exit (see README.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"

/* ---- semihosting ---------------------------------------------------------- */

enum {
  kSysWrite0 = 0x04,                    /* write a NUL-terminated string */
  kSysExit = 0x18,                      /* report an exception to the debugger */
  kAdpStoppedApplicationExit = 0x20026, /* normal exit: QEMU exits with 0 */
  kAdpStoppedRunTimeErrorUnknown = 0x20023,
};

static int semihosting_call(int operation, const void* argument) {
  register int r0 __asm__("r0") = operation;
  register const void* r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void console_write(const char* text) { semihosting_call(kSysWrite0, text); }

void console_printf(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof line, format, args);
  va_end(args);
  console_write(line);
}

void board_exit(int status) {
  /* AArch32 SYS_EXIT takes the reason itself, not a block: no exit code. */
  semihosting_call(kSysExit,
                   (const void*)(uintptr_t)(status == 0 ? kAdpStoppedApplicationExit : kAdpStoppedRunTimeErrorUnknown));
  for (;;) {
  }
}

/* newlib's exit() and abort() end here. */
void _exit(int status) { board_exit(status); }

/* ---- TrustZone ------------------------------------------------------------ */

const char* board_security_state(void) {
#if defined(__ARM_FEATURE_CMSE)
  /* TT's S bit (22) is the address's security attribute, and reads as 0 in
   * the Non-secure state: 1 for our own code proves the core is Secure. */
  uint32_t response;
  __asm__ volatile("tt %0, %1" : "=r"(response) : "r"((uintptr_t)&board_security_state));
  return (response >> 22) & 1u ? "Secure" : "Non-secure";
#else
  return NULL;
#endif
}

/* ---- memory --------------------------------------------------------------- */

/* Symbols of the linker script (mps2_sections.ld). */
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

#define STACK_PATTERN 0x57AC57ACu

static inline uintptr_t current_sp(void) {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

void stack_paint(void) {
  uint32_t* end = (uint32_t*)(current_sp() - 64); /* leave this frame alone */
  for (uint32_t* word = __stack_limit; word < end; ++word) *word = STACK_PATTERN;
}

size_t stack_bytes_used(void) {
  const uint32_t* word = __stack_limit;
  while (word < __stack_top && *word == STACK_PATTERN) ++word;
  return (size_t)((const uint8_t*)__stack_top - (const uint8_t*)word);
}

size_t stack_bytes_total(void) { return (size_t)((uint8_t*)__stack_top - (uint8_t*)__stack_limit); }

/* malloc's memory. With a caller-given arena edgegen never calls malloc;
 * the pool exists so that library code on an error path (newlib formats %g
 * with a heap-allocated buffer) degrades gracefully instead of faulting. */
#ifndef BOARD_HEAP_BYTES
#define BOARD_HEAP_BYTES 2048
#endif
static uint8_t heap[BOARD_HEAP_BYTES] __attribute__((aligned(8)));
static size_t heap_used;

void* _sbrk(ptrdiff_t increment) {
  if (increment < 0 || (size_t)increment > sizeof heap - heap_used) {
    errno = ENOMEM;
    return (void*)-1;
  }
  void* block = heap + heap_used;
  heap_used += (size_t)increment;
  return block;
}

size_t heap_bytes_used(void) { return heap_used; }
size_t heap_bytes_total(void) { return sizeof heap; }

/* ---- reset and exceptions ------------------------------------------------- */

int main(void);

void Reset_Handler(void) {
#if defined(__ARM_FP)
  /* CPACR: full access to coprocessors 10 and 11 (the FPU), before any
   * floating-point instruction runs. */
  volatile uint32_t* cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  for (uint32_t *from = __data_load, *to = __data_start; to < __data_end;) *to++ = *from++;
  for (uint32_t* word = __bss_start; word < __bss_end;) *word++ = 0;
  for (void (**constructor)(void) = __init_array_start; constructor < __init_array_end; ++constructor) (*constructor)();
  board_exit(main());
}

static void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  const volatile uint32_t* scb = (const volatile uint32_t*)0xE000ED00u;
  /* CFSR (0x28), HFSR (0x2C), MMFAR (0x34), BFAR (0x38) */
  console_printf("\nfault: exception %lu, CFSR 0x%08lx HFSR 0x%08lx MMFAR 0x%08lx BFAR 0x%08lx\n",
                 (unsigned long)(ipsr & 0x1FFu), (unsigned long)scb[0x28 / 4], (unsigned long)scb[0x2C / 4],
                 (unsigned long)scb[0x34 / 4], (unsigned long)scb[0x38 / 4]);
  board_exit(1);
}

/* 16 system exceptions and the board's 32 interrupts (CMSDK peripherals). */
__attribute__((section(".isr_vector"), used)) void (*const vector_table[16 + 32])(void) = {
    [0] = (void (*)(void))__stack_top,
    [1] = Reset_Handler,
    [2 ... 16 + 32 - 1] = Default_Handler,
};
