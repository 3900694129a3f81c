# Bytes of flash and RAM each archive or object file takes in a GNU ld map
# file (-Wl,-Map=...): run.sh's size table. Sections at or above RAM_START
# (default 0x20000000) are RAM; initialised data counts in both (its image is
# in flash). Debug and other unloaded sections are skipped.
#   awk -f map_sizes.awk [-v RAM_START=536870912] firmware.map
# Prints "name flash ram" lines; the members of libedgegen_runtime.a are
# listed as "libedgegen_runtime.a:member.cc.obj" when -v MEMBERS=1.
function hex(text,   i, value) {
  value = 0
  text = tolower(substr(text, 3))
  for (i = 1; i <= length(text); ++i) value = value * 16 + index("0123456789abcdef", substr(text, i, 1)) - 1
  return value
}
BEGIN { if (RAM_START == "") RAM_START = 536870912 }
/^Linker script and memory map/ { in_map = 1; next }
!in_map { next }
/^ [^ ]/ { section = $1 }
{
  n = split($0, field, /[ \t]+/)
  for (i = 1; i < n - 1; ++i) {
    if (field[i] !~ /^0x[0-9a-f]+$/ || field[i + 1] !~ /^0x[0-9a-f]+$/) continue
    file = field[i + 2]
    for (j = i + 3; j <= n; ++j) file = file " " field[j]
    size = hex(field[i + 1])
    if (size == 0 || file == "" || file ~ /^load address/ || section ~ /^\.(debug|comment|stab|ARM\.attributes)/) break
    name = file
    if (MEMBERS && name ~ /libedgegen_runtime\.a\(/) {
      sub(/^.*\(/, "libedgegen_runtime.a:", name)
      sub(/\)$/, "", name)
    } else {
      sub(/\(.*$/, "", name)
      sub(/.*\//, "", name)
    }
    if (hex(field[i]) >= RAM_START) {
      ram[name] += size
      if (section !~ /bss|COMMON/) flash[name] += size
    } else {
      flash[name] += size
    }
    seen[name] = 1
    break
  }
}
END { for (name in seen) printf "%s %d %d\n", name, flash[name], ram[name] }
