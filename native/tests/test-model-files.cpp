/*
 * test-model-files.cpp: how the loaders treat a model folder's files as files: only regular files
 * are read (a FIFO in place of config.json, tokenizer.json, the shard index, model.safetensors or a
 * shard is refused at once instead of blocking the process forever; a directory likewise), small
 * files only up to their cap (a sparse 1 GiB config.json is refused before a byte is read; it was
 * once read whole, 2.1 GB at peak), an empty tokenizer vocabulary is refused, and no error message
 * carries a file's text (a config.json, tokenizer.json, index or model.safetensors symlinked to a
 * secret file). A SIGALRM after 20 s fails the test instead of letting a blocked open hang ctest.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "core/file-read.h"
#include "engine.h"
#include "redrafter/drafter-config.h"
#include "base/status.h"
#include "load-outcome.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {


// True when any 6-byte run of secret appears in message.
bool leaks(const std::string & message, const std::string & secret) {
    for (size_t i = 0; i + 6 <= secret.size(); ++i)
        if (contains(message, secret.substr(i, 6))) return true;
    return false;
}

struct fixture : tiny_folders {
    void expect(const char * what, const std::string & dir, engine_status status, const std::vector<std::string> & parts) {
        const load_outcome o = load_folder(dir);
        bool ok = o.status == status;
        for (const auto & p : parts) ok = ok && contains(o.message, p);
        if (!ok) std::fprintf(stderr, "%s: got %s '%s'\n", what, engine_status_code(o.status), o.message.c_str());
        CHECK(ok);
    }
};

// Replaces path by a FIFO (nobody ever writes to it).
void make_fifo(const std::string & path) {
    ::unlink(path.c_str());
    CHECK(::mkfifo(path.c_str(), 0600) == 0);
}

void check_not_regular(fixture & f) {
    for (const char * name : {"config.json", "tokenizer.json", "model.safetensors"}) {
        std::string dir = f.folder();
        make_fifo(dir + "/" + name);
        f.expect(name, dir, ENGINE_STATUS_BAD_MODEL, {dir + "/" + name + ": is a FIFO, not a regular file"});
        dir = f.folder();
        ::unlink((dir + "/" + name).c_str());
        CHECK(::mkdir((dir + "/" + name).c_str(), 0700) == 0);
        f.expect(name, dir, ENGINE_STATUS_BAD_MODEL, {dir + "/" + name + ": is a directory, not a regular file"});
    }
    // the shard index, and a shard it names
    std::string dir = f.folder();
    make_fifo(dir + "/model.safetensors.index.json");
    f.expect("index", dir, ENGINE_STATUS_BAD_MODEL, {"model.safetensors.index.json: is a FIFO"});
    dir = f.folder();
    write_file(dir + "/model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00001.safetensors\"}}");
    make_fifo(dir + "/model-00001-of-00001.safetensors");
    f.expect("shard", dir, ENGINE_STATUS_BAD_MODEL, {"model-00001-of-00001.safetensors: is a FIFO"});
    // the drafter's config.json
    make_fifo(dir + "/drafter-config.json");
    std::string msg;
    try {
        drafter_config_load(dir + "/drafter-config.json");
    } catch (const engine_error & e) {
        msg = e.what();
    }
    CHECK(contains(msg, "drafter-config.json: is a FIFO"));
}

void check_caps(fixture & f) {
    // a sparse file: 1 GiB long, no disk used; refused from its size, nothing read
    auto sparse = [](const std::string & path, off_t size) {
        ::unlink(path.c_str());
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && ::ftruncate(fd, size) == 0);
        ::close(fd);
    };
    const long rss0 = max_rss_kb();
    std::string dir = f.folder();
    sparse(dir + "/config.json", off_t(1) << 30);
    f.expect("1 GiB config.json", dir, ENGINE_STATUS_BAD_MODEL, {"config.json: is 1073741824 bytes, more than the 1048576-byte limit"});
    dir = f.folder();
    sparse(dir + "/tokenizer.json", (off_t(64) << 20) + 1);
    f.expect("64 MiB + 1 tokenizer.json", dir, ENGINE_STATUS_BAD_MODEL, {"tokenizer.json: is 67108865 bytes, more than the 67108864-byte limit"});
    dir = f.folder();
    sparse(dir + "/model.safetensors.index.json", off_t(33) << 20);
    f.expect("index", dir, ENGINE_STATUS_BAD_MODEL, {"model.safetensors.index.json: is 34603008 bytes, more than the 33554432-byte limit"});
    const long grew_mb = (max_rss_kb() - rss0) / 1024;
    std::fprintf(stderr, "peak RSS grew %ld MB over the oversized files\n", grew_mb);
    CHECK(grew_mb < 16);
    // exactly at the cap is read (and then judged as JSON)
    dir = f.folder();
    write_file(dir + "/config.json", std::string(FILE_CAP_CONFIG, ' '));
    f.expect("1 MiB of spaces", dir, ENGINE_STATUS_BAD_MODEL, {"config.json: not valid JSON: unexpected end at byte 1048576"});
    CHECK(read_capped_file(dir + "/config.json", FILE_CAP_CONFIG).size() == FILE_CAP_CONFIG);
}

void check_tokenizer_vocab(fixture & f) {
    const std::string cases[][2] = {
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"added_tokens\": []}", "the vocabulary is empty"},
        {"{\"model\": {\"type\": \"BPE\"}}", "the vocabulary is empty"},
        {"{\"model\": {\"vocab\": {\"a\": -1}}}", "model.vocab holds an id that is not a non-negative integer"},
        {"{\"model\": {\"vocab\": {\"a\": 0}}, \"added_tokens\": [{\"content\": \"x\"}]}", "added_tokens holds an id that is not"},
        {"{\"model\": {\"vocab\": [[\"a\", 0.0], 5]}}", "model.vocab is an array whose entries are not [piece, score] pairs"},
        {"{\"model\": {\"vocab\": [[\"a\", 0.0], [\"b\", -1.5]]}}", ""},  // Unigram: ids 0, 1
        {"[1, 2]", "not a JSON object"},
    };
    for (const auto & c : cases) {
        const std::string dir = f.folder();
        write_file(dir + "/tokenizer.json", c[0]);
        if (c[1].empty()) f.expect("unigram vocab", dir, ENGINE_STATUS_OK, {});
        else f.expect(c[1].c_str(), dir, ENGINE_STATUS_BAD_MODEL, {dir + "/tokenizer.json: " + c[1]});
    }
}

// Each model file symlinked to a secret, as text and as JSON with the secret where the loader
// reads names: the error names the file and never shows the secret.
void check_no_contents_in_messages(fixture & f) {
    const std::string secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n";
    const std::string word = "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG";
    const std::string root = make_temp_dir();
    f.dirs.push_back(root);
    write_file(root + "/secret.txt", secret);
    const std::string json_secrets[][2] = {
        {"config.json", "{\"model_type\": \"" + word + "\"}"},
        {"config.json", "{\"model_type\": \"llama\", \"hidden_act\": \"" + word + "\", \"vocab_size\": 40, \"hidden_size\": 16, "
                        "\"intermediate_size\": 24, \"num_hidden_layers\": 2, \"num_attention_heads\": 4}"},
        {"config.json", "{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"" + word + "\"}, \"vocab_size\": 40, "
                        "\"hidden_size\": 16, \"intermediate_size\": 24, \"num_hidden_layers\": 2, \"num_attention_heads\": 4}"},
        {"tokenizer.json", "{\"model\": {\"vocab\": {\"" + word + "\": 99999}}}"},
        {"model.safetensors.index.json", "{\"weight_map\": {\"" + word + "\": \"" + word + ".safetensors\"}}"},
        {"model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": \"" + word + "\"}}"},
        {"model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": 5}, \"x\": \"" + word + "\"}"},
    };
    int n = 0;
    auto check = [&](const std::string & name, const std::string & target, const std::string & needle) {
        const std::string dir = f.folder();
        ::unlink((dir + "/" + name).c_str());
        CHECK(::symlink(target.c_str(), (dir + "/" + name).c_str()) == 0);
        const load_outcome o = load_folder(dir);
        const bool ok = o.status == ENGINE_STATUS_BAD_MODEL && contains(o.message, dir + "/" + name) && !leaks(o.message, needle);
        if (!ok) std::fprintf(stderr, "%s -> %s: got %s '%s'\n", name.c_str(), target.c_str(), engine_status_code(o.status), o.message.c_str());
        CHECK(ok);
        ++n;
    };
    for (const char * name : {"config.json", "tokenizer.json", "model.safetensors.index.json", "model.safetensors"})
        check(name, root + "/secret.txt", secret);
    for (const auto & js : json_secrets) {
        const std::string target = root + "/secret-" + std::to_string(n) + ".json";
        write_file(target, js[1]);
        check(js[0], target, word);
    }
    // a safetensors header whose tensor name and dtype are the secret
    const std::string header = "{\"" + word + "\": {\"dtype\": \"" + word + "\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
    const uint64_t len = header.size();
    write_file(root + "/secret.safetensors", std::string(reinterpret_cast<const char *>(&len), 8) + header + "0000");
    check("model.safetensors", root + "/secret.safetensors", word);
    // the drafter's config.json
    std::string msg;
    try {
        drafter_config_parse("d/config.json", "{\"model_type\": \"" + word + "\"}");
    } catch (const engine_error & e) {
        msg = e.what();
    }
    CHECK(contains(msg, "d/config.json: model_type is (a " + std::to_string(word.size()) + "-byte string, not shown)") && !leaks(msg, word));
}

}  // namespace

int main() {
    std::signal(SIGALRM, [](int) {
        static const char m[] = "test-model-files: still running after 20 s: a blocking open?\n";
        (void)!::write(2, m, sizeof(m) - 1);
        std::_Exit(1);
    });
    ::alarm(20);
    engine_set_log_level(ENGINE_LOG_ERROR);
    {
        fixture f;
        CHECK(load_folder(f.folder()).status == ENGINE_STATUS_OK);
        check_not_regular(f);
        check_caps(f);
        check_tokenizer_vocab(f);
        check_no_contents_in_messages(f);
    }
    return test_summary("test-model-files");
}
