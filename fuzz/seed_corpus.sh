#!/usr/bin/env bash
# Seeds fuzz/corpus/decode_message with one example message of every type.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/decode_message
cargo run -q --example write_examples_corpus -- fuzz/corpus/decode_message
