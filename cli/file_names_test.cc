#include "file_names.h"

#include <doctest/doctest.h>

#include "cli_error.h"

namespace edgegen::cli {

TEST_CASE("file names: tensor names become safe file names") {
  CHECK(sanitize_file_name("x_hat") == "x_hat");
  CHECK(sanitize_file_name("onnx::Gemm_12") == "onnx__Gemm_12");
  CHECK(sanitize_file_name("../../etc/passwd") == "_._.._etc_passwd");
  CHECK(sanitize_file_name("..") == "_.");
  CHECK(sanitize_file_name(".hidden") == "_hidden");
  CHECK(sanitize_file_name("") == "_");
  CHECK(sanitize_file_name("a b\\c:d") == "a_b_c_d");
  CHECK(sanitize_file_name(std::string(300, 'a')).size() == 200);
}

TEST_CASE("file names: collisions get numbered suffixes, ignoring case") {
  CHECK(unique_file_names({"a/b", "a:b", "A_B", "c"}) == std::vector<std::string>{"a_b", "a_b_2", "A_B_3", "c"});
}

TEST_CASE("file names: output format by extension") {
  CHECK(output_format_of("grid.png", "-o") == OutputFormat::kPng);
  CHECK(output_format_of("dir/GRID.PNG", "-o") == OutputFormat::kPng);
  CHECK(output_format_of("z.npy", "-o") == OutputFormat::kNpy);
  CHECK_THROWS_WITH_AS(output_format_of("z.jpg", "-o"), doctest::Contains("must end in .png or .npy"), CliError);
}

TEST_CASE("file names: one file per item, numbered from 0 before the extension") {
  CHECK(item_file_names("speech.wav", 1) == std::vector<std::string>{"speech.wav"});
  CHECK(item_file_names("out/noise.wav", 3) == std::vector<std::string>{"out/noise_0.wav", "out/noise_1.wav",
                                                                        "out/noise_2.wav"});
  CHECK(item_file_names("a.b/noise", 2) == std::vector<std::string>{"a.b/noise_0", "a.b/noise_1"});
  CHECK(item_file_names("dir/.wav", 2) == std::vector<std::string>{"dir/.wav_0", "dir/.wav_1"});
}

}  // namespace edgegen::cli
