# Built by run.sh (make -C <build folder> -f bench/fuzz/fuzz.mk); flags.mk,
# written by run.sh, sets CXX, ROOT, PKG_CFLAGS and PKG_LIBS.
include flags.mk

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CXXFLAGS := -std=c++17 -O1 -g -fno-omit-frame-pointer $(SAN) \
  -I$(ROOT) -I/usr/include/torch/csrc/api/include $(PKG_CFLAGS) -DSAESCOPE_VERSION=\"fuzz\" \
  -DSAESCOPE_SOURCE_DIR=\"$(ROOT)\" \
  -Wno-unused-command-line-argument -MMD -MP
LIBS := -ltorch -ltorch_cpu -lc10 $(PKG_LIBS) -lpthread

# The core sources any harness needs, compiled once into libcore.a; a harness
# links only the members it uses.
CORE := core/common/file_bytes core/common/json_file core/common/sha256 \
  core/io/mapped_file core/io/zip_archive core/io/npy core/io/pickle_value \
  core/io/weights_unpickler core/io/torch_pt core/io/safetensors core/io/safetensors_dtype core/io/safetensors_checkpoint \
  core/sae/sae_config \
  $(addprefix core/sae/arch/,registry standard topk batchtopk batch_topk_common matryoshka_batchtopk jumprelu \
    gated step_math) \
  $(addprefix core/tokenizer/,added_tokens bpe_merges bpe_model bpe_tokenizer byte_level_alphabet \
    normalized_text normalizer pre_tokenizer regex_pattern tokenizer_files tokenizer_json_parts utf8) \
  $(addprefix core/model/,config_json checkpoint_reader hook_plan hook_point hook_schema kv_cache language_model \
    model_options token_batch transformer_ops gpt2/gpt2_config llama/llama gemma/gemma gpt_neox/gpt_neox) \
  $(addprefix core/polysemy/,csv_records lenient_fields morphy occurrence_reader pseval_reader \
    read_report text_files utf8_offsets wic_reader wordnet_synsets) \
  core/corpus/corpus_windows core/corpus/window_source
CORE_OBJS := $(addprefix obj/,$(addsuffix .o,$(CORE)))

libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

obj/%.o: $(ROOT)/%.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX $*"
	$(CXX) $(CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

obj/bench/fuzz/%.o: $(ROOT)/bench/fuzz/%.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX bench/fuzz/$*"
	$(CXX) $(CXXFLAGS) -fsanitize=fuzzer -c $< -o $@

fuzz_%: obj/bench/fuzz/fuzz_%.o libcore.a
	@echo "  LINK $@"
	$(CXX) $(SAN) -fsanitize=fuzzer $< libcore.a $(LIBS) -o $@

-include $(shell find obj -name '*.d' 2>/dev/null)
.SUFFIXES:
.PRECIOUS: obj/bench/fuzz/%.o
