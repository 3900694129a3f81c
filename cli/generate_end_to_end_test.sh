#!/bin/bash
# End-to-end test of `edgegen generate` and `edgegen score` with token
# decoders (issue 13): examples/tiny_lm converted and run from the command
# line (greedy text = PyTorch's, tokens, --stop, seeds at 1 and 2 threads,
# info's cache bytes, scoring a text file) and the error paths (exit codes,
# messages, no output file left behind).
#
# Usage: generate_end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
LM=$ROOT/examples/tiny_lm
SMALL=$ROOT/tests/token_decoder/scatter_mha
. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin generate
json() { "$PYTHON" -c "import json,sys; print(json.load(open('$LM/reference_tokens.json'))[sys.argv[1]])" "$1"; }

echo "== convert, info"
ok convert "$LM/manifest.json" -o lm.egm
grep -q "token_decoder pipeline" last.out || fail "convert summary: $(cat last.out)"
ok convert "$SMALL/manifest.json" -o small.egm
ok info lm.egm --json
"$PYTHON" - <<'PY' || fail "info --json: cache bytes"
import json
p = json.load(open("last.out"))["pipeline"]
assert p["kind"] == "token_decoder", p
assert p["vocab_size"] == 258 and p["max_length"] == 256 and p["bos"] == 256 and p["eos"] == 257, p
assert p["cache_tensors"] == 8 and p["cache_bytes"] > 0, p
assert p["prefill_graph"] == "prefill", p
PY
ok info small.egm
grep -q "cache_bytes" last.out || fail "info text lacks cache_bytes: $(cat last.out)"

echo "== generate: greedy text and tokens equal PyTorch's"
PROMPT=$(json prompt)
ok generate lm.egm --prompt "$PROMPT" -n 64
[ "$(cat last.out)" = "$(json generated_text)" ] || fail "greedy text: '$(cat last.out)'"
grep -q "stopped: -n 64 tokens generated" last.err || fail "stop message: $(cat last.err)"
grep -q "tokens/s" last.err || fail "no tokens/s: $(cat last.err)"
ok generate lm.egm --prompt "$PROMPT" -n 64 --tokens-out
EXPECTED=$("$PYTHON" -c "import json; print(' '.join(map(str, json.load(open('$LM/reference_tokens.json'))['generated_tokens'])))")
[ "$(cat last.out)" = "$EXPECTED" ] || fail "greedy tokens: $(cat last.out)"
TOKENS=$("$PYTHON" -c "import json; print(','.join(map(str, json.load(open('$LM/reference_tokens.json'))['prompt_tokens'])))")
ok generate lm.egm --prompt-tokens "$TOKENS" -n 64
[ "$(cat last.out)" = "$(json generated_text)" ] || fail "--prompt-tokens text: '$(cat last.out)'"

echo "== --stop, max_length, sampling"
ok generate lm.egm --prompt "$PROMPT" -n 64 --stop "Library"
[ "$(cat last.out)" = " the software is a provided that the Library" ] || fail "--stop: '$(cat last.out)'"
grep -q "stopped: --stop text reached" last.err || fail "--stop message: $(cat last.err)"
ok generate small.egm --prompt-tokens 1,2,3 -n 100 --tokens-out
grep -q "the cache is full (max_length 32" last.err || fail "max_length message: $(cat last.err)"
[ "$(wc -w < last.out)" = 30 ] || fail "max_length: $(wc -w < last.out) tokens, expected 30"
ok generate lm.egm --prompt "Hello" -n 40 --temperature 0.9 --top-k 40 --top-p 0.95 --min-p 0.02 --repetition-penalty 1.1 --seed 7 --tokens-out --threads 1
cp last.out seed7_1.txt
ok generate lm.egm --prompt "Hello" -n 40 --temperature 0.9 --top-k 40 --top-p 0.95 --min-p 0.02 --repetition-penalty 1.1 --seed 7 --tokens-out --threads 2
cmp -s seed7_1.txt last.out || fail "seed 7 differs between 1 and 2 threads"
ok generate lm.egm --prompt "Hello" -n 40 --temperature 0.9 --seed 8 --tokens-out
cmp -s seed7_1.txt last.out && fail "seeds 7 and 8 gave the same tokens"

echo "== score"
printf '%s\n%s\n' "$PROMPT" "the source code of the Library" > text.txt
ok score lm.egm --input text.txt -o scores.csv
grep -q "2 sequences" last.out || fail "score summary: $(cat last.out)"
"$PYTHON" - <<'PY' || fail "scores.csv"
import csv
rows = list(csv.DictReader(open("scores.csv")))
assert len(rows) == 2, rows
assert int(rows[0]["tokens"]) == 56, rows[0]  # every token after bos predicted
assert float(rows[0]["log_likelihood"]) < 0 and 0 < float(rows[0]["bits_per_token"]) < 8, rows[0]
PY
printf '1,2,3\n4 5 6 7\n' > tokens.txt
ok score small.egm --input tokens.txt --token-ids -o token_scores.csv
grep -q "5 tokens predicted" last.out || fail "token score summary: $(cat last.out)"

echo "== int8, calibrated by running the float step graph over a text"
head -c 2000 /usr/share/common-licenses/GPL-3 > calibration.txt
ok convert "$LM/manifest.json" -o lm8.egm --quantize int8 --calibration calibration.txt
grep -q "the float step graph run over the calibration text" last.out || fail "int8 notes: $(cat last.out)"
ok generate lm8.egm --prompt "$PROMPT" -n 16
[ "$(wc -c < last.out)" -ge 16 ] || fail "int8 generate: '$(cat last.out)'"
ok score lm8.egm --input text.txt -o scores8.csv
"$PYTHON" - <<'PY' || fail "int8 bits per token far from float32's"
import csv
f32 = [float(r["bits_per_token"]) for r in csv.DictReader(open("scores.csv"))]
i8 = [float(r["bits_per_token"]) for r in csv.DictReader(open("scores8.csv"))]
assert all(abs(a - b) < 0.15 for a, b in zip(f32, i8)), (f32, i8)
PY
fails 1 "a calibration text is for token decoders" convert "$ROOT/examples/energy_gaussian/energy.onnx" -o e8.egm --quantize int8 --calibration calibration.txt
[ -e e8.egm ] && fail "e8.egm exists after a failure"

echo "== SentencePiece tokenizer (stored in the .egm)"
SP=$ROOT/tests/token_decoder/sentencepiece
ok convert "$SP/manifest.json" -o sp.egm
ok info sp.egm --json
grep -q '"tokenizer": "SentencePiece"' last.out || fail "info: tokenizer $(grep tokenizer last.out)"
"$EDGEGEN" generate sp.egm --prompt "the source code of the Program" -n 5 > last.out 2> last.err
if grep -q "needs an edgegen built with libsentencepiece" last.err; then
  echo "   (this edgegen has no libsentencepiece: SentencePiece checks skipped)"
else
  grep -q "stopped: -n 5 tokens generated" last.err || fail "SentencePiece generate: $(cat last.err)"
  printf 'the source code of the Program\n' > sp.txt
  ok score sp.egm --input sp.txt -o sp.csv
  # spm_encode gives 10 pieces for this line; with bos, 10 are predicted.
  grep -q "10 tokens predicted" last.out || fail "SentencePiece score: $(cat last.out)"
fi

echo "== errors"
fails 1 "give one of --prompt TEXT and --prompt-tokens" generate lm.egm -n 3
fails 1 "outside the vocabulary" generate lm.egm --prompt-tokens 1,999 -n 3
fails 1 "expected token ids" generate lm.egm --prompt-tokens 1,x -n 3
fails 1 "max_length is 32" generate small.egm --prompt-tokens "$(printf '65,%.0s' $(seq 40))65" -n 3
ok convert "$ROOT/examples/energy_gaussian/energy.onnx" -o graphs.egm
fails 1 "generate needs a token_decoder model" generate graphs.egm --prompt x
printf '1,999\n' > big_tokens.txt
fails 1 "outside the vocabulary" score small.egm --input big_tokens.txt --token-ids -o bad.csv
[ -e bad.csv ] && fail "bad.csv exists after a failure"
printf '1,x\n' > bad_tokens.txt
fails 1 "line 1" score small.egm --input bad_tokens.txt --token-ids -o bad.csv
[ -e bad.csv ] && fail "bad.csv exists after a failure"

sed -e 's#"tokenizer.model"#"/dev/zero"#' -e "s#\"\.\./scatter_mha#\"$ROOT/tests/token_decoder/scatter_mha#g" "$SP/manifest.json" > zero.json
fails 1 "is not a readable file" convert zero.json -o zero.egm
[ -e zero.egm ] && fail "zero.egm exists after a failure"

e2e_end "generate end-to-end"
