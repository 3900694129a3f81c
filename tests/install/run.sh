#!/usr/bin/env bash
# edgegen installed like a library, used by a project outside it:
#   1. cmake --install <build> --prefix <tmp prefix>; the files are there and
#      every public header compiles on its own from the prefix (no internal or
#      generated header needed),
#   2. the installed edgegen tool converts examples/digits_gan and samples
#      seed 7 (item and latent .npy); the installed Python module, when the
#      build has one, samples the same,
#   3. tests/install (c_sample.c: C API, cpp_decode.cc: C++ API) is built
#      against the prefix with find_package(edgegen), then again with plain
#      compiler commands and `pkg-config --cflags --libs edgegen`; each build
#      runs both programs, which compare their output with the tool's; the
#      find_package build also links the model into embedded_sample.c with
#      the package's edgegen_embed_model() and samples it from a static arena.
# Exits with 0 when everything passes.
#
#   tests/install/run.sh [host build dir, default: build]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=$(cd "${1:-build}" && pwd)
work=$build/install-test
prefix=$work/prefix
start=$SECONDS
rm -rf "$work"
mkdir -p "$work"

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for file in lib/libedgegen_runtime.a include/edgegen/edgegen.h include/edgegen/session.h \
            lib/cmake/edgegen/edgegenConfig.cmake lib/cmake/edgegen/edgegenConfigVersion.cmake \
            lib/cmake/edgegen/edgegenTargets.cmake lib/cmake/edgegen/EdgegenEmbedModel.cmake \
            lib/pkgconfig/edgegen.pc bin/edgegen; do
  [[ -e $prefix/$file ]] || { echo "install: $file is missing" >&2; exit 1; }
done
if [[ -e $prefix/include/edgegen_generated.h ]] || ls "$prefix/include/edgegen" | grep -qv '\.h$'; then
  echo "install: unexpected files in include/" >&2
  exit 1
fi
for header in "$prefix"/include/edgegen/*.h; do
  echo "#include <edgegen/${header##*/}>" | "${CXX:-c++}" -std=c++17 -fsyntax-only -I"$prefix/include" -x c++ -
done
echo "#include <edgegen/edgegen.h>" | "${CC:-cc}" -std=c11 -fsyntax-only -I"$prefix/include" -x c -
echo "  ok    $(find "$prefix" -type f | wc -l) files; the public headers compile alone (C++17; edgegen.h also as C11)"

echo "== the installed tool"
tool=$prefix/bin/edgegen
model=$work/digits_gan.egm
"$tool" convert examples/digits_gan/manifest.json -o "$model" >/dev/null
"$tool" sample "$model" -n 1 --seed 7 -o "$work/item.npy" --latents-out "$work/latent.npy" >/dev/null
echo "  ok    $tool converted examples/digits_gan and sampled seed 7"

# The Python module, when the build has it (EDGEGEN_BUILD_PYTHON): the
# installed package imports from the prefix alone and samples what the tool did.
python_dir=$(find "$prefix/lib" -maxdepth 3 -type d -path "*/dist-packages/edgegen" 2>/dev/null | head -n 1)
if [[ -n $python_dir ]]; then
  PYTHONPATH=$(dirname "$python_dir") /usr/bin/python3 -c "
import sys, numpy as np, edgegen
assert edgegen.__file__.startswith('$prefix'), edgegen.__file__
items = edgegen.Model('$model').sample(1, seed=7)
assert np.array_equal(items, np.load('$work/item.npy')), 'python sample differs from the tool'
"
  echo "  ok    import edgegen from ${python_dir#$prefix/}: the same sample as the tool"
fi

run_programs() {  # <dir with c_sample and cpp_decode>
  "$1/c_sample" "$model" 7 "$work/item.npy"
  "$1/cpp_decode" "$model" "$work/latent.npy" "$work/item.npy"
}

echo "== find_package(edgegen) (tests/install/CMakeLists.txt)"
cmake -S tests/install -B "$work/find-package" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DEDGEGEN_TEST_MODEL="$model" >"$work/find-package.log" || { cat "$work/find-package.log"; exit 1; }
grep "edgegen 0" "$work/find-package.log" | sed 's/^-- /  /'
cmake --build "$work/find-package" >>"$work/find-package.log" 2>&1 || { cat "$work/find-package.log"; exit 1; }
run_programs "$work/find-package"
"$work/find-package/embedded_sample" "$work/item.npy"

echo "== pkg-config --cflags --libs edgegen"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs edgegen)
echo "  $flags"
mkdir -p "$work/pkg-config"
# Objects first, libraries after them: the order a static link needs.
"${CC:-cc}" -std=c11 -O2 -o "$work/pkg-config/c_sample" tests/install/c_sample.c $flags
"${CXX:-c++}" -std=c++17 -O2 -o "$work/pkg-config/cpp_decode" tests/install/cpp_decode.cc $flags
run_programs "$work/pkg-config"

echo "install: all checks passed in $((SECONDS - start)) s"
