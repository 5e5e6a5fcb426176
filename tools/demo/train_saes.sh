#!/bin/sh
# Trains the demo's SAEs (resources/demo/README.md, "SAEs") with the engine's
# own `saescope-cli train`, one activation cache per hook shared by the SAEs at
# that hook. Usage (from the repository root):
#   tools/demo/train_saes.sh CLI MODEL_DIR CORPUS OUT_DIR CACHE_DIR TOKENS
# Rerunning reuses complete caches; every SAE is saved atomically.
set -eu
cli=$1 model=$2 corpus=$3 out=$4 caches=$5 tokens=$6
mkdir -p "$out" "$caches"
layers=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['n_layer'])" "$model/config.json")
width=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['n_embd'])" "$model/config.json")
mid=$((layers / 2))

train() {  # train HOOK K EXPANSION
  hook=$1 k=$2 x=$3
  d_sae=$((width * x))
  name="L$(echo "$hook" | cut -d. -f2)_$(echo "$hook" | cut -d. -f3 | sed 's/^hook_//')_topk_k${k}_d${d_sae}"
  echo "== $name" >&2
  "$cli" train --model "$model" --hook "$hook" --corpus "$corpus" --arch topk --k "$k" \
    --d-sae "$d_sae" --tokens "$tokens" --seed 42 --save-dtype float16 \
    --cache "$caches/$hook.cache" --out "$out/$name" --json > "$caches/$name.json"
}

# Every layer's residual stream: the layer comparison.
l=0
while [ $l -lt "$layers" ]; do
  train "blocks.$l.hook_resid_post" 32 8
  l=$((l + 1))
done
# Attention against MLP output at the middle layer.
train "blocks.$mid.hook_attn_out" 32 8
train "blocks.$mid.hook_mlp_out" 32 8
# A sweep at the middle layer: k 16/32/64 at two widths (4x and 8x).
for k in 16 64; do train "blocks.$mid.hook_resid_post" $k 8; done
for k in 16 32 64; do train "blocks.$mid.hook_resid_post" $k 4; done
