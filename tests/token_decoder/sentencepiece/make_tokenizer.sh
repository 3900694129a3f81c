#!/bin/sh
# A small SentencePiece tokenizer (BPE, 200 pieces: unk 0, bos 1, eos 2) for
# the scatter_mha test decoder (vocabulary 256), trained with Debian's
# spm_train (package sentencepiece) on the GPL text Debian ships. Used by
# cli/generate_end_to_end_test.sh when edgegen is built with libsentencepiece.
set -e
cd "$(dirname "$0")"
spm_train --input=/usr/share/common-licenses/GPL-3 --model_prefix=tokenizer --vocab_size=200 \
  --model_type=bpe --character_coverage=1.0 --byte_fallback=false --num_threads=1 --minloglevel=2
rm -f tokenizer.vocab
