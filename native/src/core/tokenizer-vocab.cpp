/*
 * tokenizer-vocab.cpp: tokenizer.json's vocabulary against config.json's vocab_size (see
 * tokenizer-vocab.h). model.vocab is an object {piece: id} (BPE, WordPiece, WordLevel) or an array
 * of [piece, score] pairs (Unigram: the id is the index); added_tokens is an array of {id, content}.
 */
#include "tokenizer-vocab.h"

#include "base/status.h"
#include "file-read.h"
#include "json.h"

tokenizer_vocab_info tokenizer_vocab_scan(const std::string & path, const char * text, size_t len, int64_t n_vocab) {
    json_value root;
    try {
        json_options opt;
        opt.keep = {{"model", "vocab"}, {"added_tokens"}};
        // a vocabulary entry is at most 3 values (a Unigram pair), an added token about 8
        opt.max_values = static_cast<size_t>(4 * n_vocab + 65536);
        root = json_parse(text, len, opt);
    } catch (const json_error & e) {
        bad_model(path, std::string("not valid JSON: ") + e.what());
    }
    if (root.kind != json_value::OBJECT) bad_model(path, "not a JSON object");
    tokenizer_vocab_info info;
    std::string max_piece;
    auto see = [&](const json_value * id, const std::string & piece, const char * where) {
        if (!id || id->kind != json_value::NUMBER || !id->is_int || id->i < 0)
            bad_model(path, std::string(where) + " holds an id that is not a non-negative integer");
        info.n_entries += 1;
        if (id->i > info.max_id) {
            info.max_id = id->i;
            max_piece = piece;
        }
    };
    const json_value * model = root.get("model");
    const json_value * vocab = model ? model->get("vocab") : nullptr;
    if (vocab && vocab->kind == json_value::OBJECT) {
        for (const auto & kv : vocab->obj) see(&kv.second, kv.first, "model.vocab");
    } else if (vocab && vocab->kind == json_value::ARRAY) {
        json_value index;
        index.kind = json_value::NUMBER;
        index.is_int = true;
        for (const auto & e : vocab->arr) {
            const bool pair = e.kind == json_value::ARRAY && !e.arr.empty() && e.arr[0].kind == json_value::STRING;
            if (!pair) bad_model(path, "model.vocab is an array whose entries are not [piece, score] pairs");
            see(&index, e.arr[0].str, "model.vocab");
            index.i += 1;
        }
    } else if (vocab && !vocab->is_null()) {
        bad_model(path, "model.vocab is neither an object nor an array");
    }
    const json_value * added = root.get("added_tokens");
    if (added && added->kind == json_value::ARRAY) {
        for (const auto & t : added->arr) {
            const json_value * content = t.get("content");
            see(t.get("id"), content && content->kind == json_value::STRING ? content->str : "", "added_tokens");
        }
    } else if (added && !added->is_null()) {
        bad_model(path, "added_tokens is not an array");
    }
    if (info.n_entries == 0) bad_model(path, "the vocabulary is empty (no model.vocab entries and no added_tokens)");
    if (info.max_id >= n_vocab)
        // max_id may be INT64_MAX: the message names the id, never max_id + 1 (signed overflow)
        bad_model(path, "vocabulary holds token id " + std::to_string(info.max_id) + " " + file_value_for_message(max_piece) +
                            " but config.json vocab_size is " + std::to_string(n_vocab) + " (ids 0.." +
                            std::to_string(n_vocab - 1) + ")");
    return info;
}

void check_tokenizer_vocab(const std::string & dir, const model_config & c) {
    const std::string path = dir + "/tokenizer.json";
    if (!path_exists(path)) return;  // optional (a FIFO or directory in its place is refused by the read)
    const std::string text = read_capped_file(path, FILE_CAP_TOKENIZER);
    tokenizer_vocab_scan(path, text.data(), text.size(), c.n_vocab);
}
