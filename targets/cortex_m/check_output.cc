// Host-side check of the firmware demo's output (run.sh builds and runs it).
//
//   check_output FIRMWARE.log ITEM.npy LATENT.npy [TOLERANCE]
//
// ITEM.npy and LATENT.npy come from the host tool with the same model and seed:
//   edgegen sample model.egm -n 1 --seed S -o ITEM.npy --latents-out LATENT.npy
//
// Checks, printing one line each:
//   - the latent is bit-identical to the host's (edgegen's RNG is portable by
//     design), and so is its FNV-1a checksum;
//   - every generated value is within TOLERANCE (default 1e-4) of the host's:
//     the network is the same, but libm's expf/tanhf differ in the last bits
//     between newlib on the Cortex-M and glibc on the host;
//   - the ASCII art is the one the firmware's own values give, and the host's
//     values give the same picture except where a value lies within the
//     tolerance of a shade boundary;
//   - a too-small arena was refused with a message naming the exact size;
//   - the heap was never used, and the firmware reported success.
// Exits with 0 if all hold.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string& message) {
  std::cout << (ok ? "  ok    " : "  FAIL  ") << message << "\n";
  if (!ok) ++failures;
}

[[noreturn]] void die(const std::string& message) {
  std::cerr << "check_output: " << message << "\n";
  std::exit(2);
}

// float32 little-endian .npy (format versions 1 to 3), any shape, C order.
std::vector<float> read_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) die("cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) die(path + ": not a .npy file");
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  size_t header_length, header_start;
  if (byte(6) == 1) {
    header_length = byte(8) | byte(9) << 8;
    header_start = 10;
  } else {
    if (bytes.size() < 12) die(path + ": truncated header");
    header_length = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    header_start = 12;
  }
  if (bytes.size() < header_start + header_length) die(path + ": truncated header");
  std::string header = bytes.substr(header_start, header_length);
  if (header.find("'<f4'") == std::string::npos) die(path + ": not float32 little-endian: " + header);
  if (header.find("'fortran_order': True") != std::string::npos) die(path + ": Fortran order");
  size_t data_start = header_start + header_length;
  if ((bytes.size() - data_start) % 4 != 0) die(path + ": data is not a whole number of floats");
  std::vector<float> values((bytes.size() - data_start) / 4);
  std::memcpy(values.data(), bytes.data() + data_start, values.size() * 4);
  return values;
}

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

float from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// The firmware's checksum: FNV-1a over the little-endian bytes of each float.
uint32_t fnv1a(const std::vector<float>& values) {
  uint32_t hash = 2166136261u;
  for (float value : values) {
    uint32_t bits = bits_of(value);
    for (int byte = 0; byte < 4; ++byte) {
      hash ^= (bits >> (8 * byte)) & 0xFFu;
      hash *= 16777619u;
    }
  }
  return hash;
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// The firmware's shading (main.c print_ascii_art): the level of one value.
const char kRamp[] = " .:-=+*#%@";
constexpr int kLevels = sizeof kRamp - 1;
int shade_level(float value, float low, float high) {
  float t = (value - low) / (high - low);
  int level = static_cast<int>(t * static_cast<float>(kLevels));
  return level < 0 ? 0 : level > kLevels - 1 ? kLevels - 1 : level;
}

struct FirmwareOutput {
  std::vector<std::string> lines;

  // Index of the first line starting with `prefix`, or -1.
  long find(const std::string& prefix) const {
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].compare(0, prefix.size(), prefix) == 0) return static_cast<long>(i);
    return -1;
  }
  std::string value_after(const std::string& prefix) const {
    long i = find(prefix);
    return i < 0 ? std::string() : lines[static_cast<size_t>(i)].substr(prefix.size());
  }
  // "NAME (N floats, float32 bits):" and the hex words below it.
  std::vector<float> floats(const std::string& name) const {
    long i = find(name + " (");
    if (i < 0) die("the firmware printed no '" + name + "' values");
    unsigned long count = std::strtoul(lines[static_cast<size_t>(i)].c_str() + name.size() + 2, nullptr, 10);
    std::vector<float> values;
    for (size_t line = static_cast<size_t>(i) + 1; line < lines.size() && values.size() < count; ++line) {
      std::istringstream words(lines[line]);
      std::string word;
      while (words >> word) values.push_back(from_bits(static_cast<uint32_t>(std::stoul(word, nullptr, 16))));
    }
    if (values.size() != count) die("'" + name + "': fewer values than announced");
    return values;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) die("usage: check_output FIRMWARE.log ITEM.npy LATENT.npy [TOLERANCE]");
  const double tolerance = argc == 5 ? std::atof(argv[4]) : 1e-4;
  FirmwareOutput out;
  {
    std::ifstream log(argv[1]);
    if (!log) die(std::string("cannot open ") + argv[1]);
    for (std::string line; std::getline(log, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.lines.push_back(line);
    }
  }
  std::vector<float> host_item = read_npy(argv[2]);
  std::vector<float> host_latent = read_npy(argv[3]);

  check(out.find("status: ok") >= 0, "the firmware reported 'status: ok'");

  // Latents: bit-identical by design.
  std::vector<float> latent = out.floats("latent");
  size_t same_latent = 0;
  if (latent.size() == host_latent.size())
    for (size_t i = 0; i < latent.size(); ++i) same_latent += bits_of(latent[i]) == bits_of(host_latent[i]);
  check(latent.size() == host_latent.size() && same_latent == latent.size(),
        "latent: " + std::to_string(same_latent) + " of " + std::to_string(host_latent.size()) +
            " floats bit-identical to the host's");
  std::string printed_hash = out.value_after("latent fnv1a32: ");
  check(printed_hash == hex32(fnv1a(host_latent)),
        "latent fnv1a32: device " + printed_hash + ", host " + hex32(fnv1a(host_latent)));

  // Items: equal within the tolerance.
  std::vector<float> item = out.floats("item");
  double max_difference = 0;
  size_t same_item = 0;
  bool finite = true;
  if (item.size() == host_item.size())
    for (size_t i = 0; i < item.size(); ++i) {
      finite = finite && std::isfinite(item[i]);
      max_difference = std::fmax(max_difference, std::fabs(static_cast<double>(item[i]) - host_item[i]));
      same_item += bits_of(item[i]) == bits_of(host_item[i]);
    }
  char summary[200];
  std::snprintf(summary, sizeof summary,
                "item: %zu floats, max |device - host| = %.3g (tolerance %.3g), %zu bit-identical", host_item.size(),
                max_difference, tolerance, same_item);
  check(item.size() == host_item.size() && finite && max_difference <= tolerance, summary);

  // The picture.
  long image = out.find("image: ");
  if (image < 0) {
    check(false, "the firmware printed no image");
  } else {
    int height = 0, width = 0;
    float low = 0, high = 0;
    std::sscanf(out.lines[static_cast<size_t>(image)].c_str(), "image: %d x %d, range [%f, %f]", &height, &width, &low,
                &high);
    bool shape_ok = height > 0 && width > 0 && static_cast<size_t>(height * width) <= item.size() &&
                    static_cast<size_t>(image) + 2 + static_cast<size_t>(height) < out.lines.size();
    int own_mismatches = 0, host_mismatches = 0, boundary_cells = 0, ink = 0;
    for (int y = 0; shape_ok && y < height; ++y) {
      const std::string& row = out.lines[static_cast<size_t>(image) + 2 + static_cast<size_t>(y)];
      if (row.size() != static_cast<size_t>(2 * width + 2)) {
        shape_ok = false;
        break;
      }
      for (int x = 0; x < width; ++x) {
        size_t index = static_cast<size_t>(y * width + x);
        char printed = row[static_cast<size_t>(1 + 2 * x)];
        int own = shade_level(item[index], low, high);
        int host = shade_level(host_item[index], low, high);
        own_mismatches += printed != kRamp[own];
        ink += own >= kLevels / 2;
        if (printed != kRamp[host]) {
          // Allowed only where a value within the tolerance shades differently.
          bool near_boundary =
              shade_level(static_cast<float>(host_item[index] - tolerance), low, high) != host ||
              shade_level(static_cast<float>(host_item[index] + tolerance), low, high) != host;
          boundary_cells += near_boundary;
          host_mismatches += !near_boundary;
        }
      }
    }
    check(shape_ok && own_mismatches == 0,
          "image: " + std::to_string(height) + "x" + std::to_string(width) + " ASCII art drawn from the device's values");
    check(shape_ok && host_mismatches == 0 && ink > 0 && ink < height * width,
          "image: the host's values draw the same picture (" + std::to_string(boundary_cells) +
              " cells on a shade boundary; " + std::to_string(ink) + " dark cells)");
  }

  // Errors on the device: the too-small arena names the exact size needed.
  std::string needed = out.value_after("arena: ");
  needed = needed.substr(0, needed.find(' '));
  std::string refused = out.value_after("refused: ");
  check(!needed.empty() &&
            refused == "arena too small: the arena has 1024 bytes but this model needs " + needed,
        "errors: a 1024-byte arena was refused with the size needed (" + needed + " bytes)");

  std::string heap = out.value_after("heap: ");
  check(heap.compare(0, 2, "0 ") == 0, "heap: never used (" + heap + ")");

  std::cout << (failures == 0 ? "all checks passed\n" : std::to_string(failures) + " check(s) failed\n");
  return failures == 0 ? 0 : 1;
}
