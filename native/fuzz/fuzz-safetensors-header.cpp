/*
 * fuzz-safetensors-header.cpp: st_parse_header on arbitrary bytes taken as a whole .safetensors
 * file (8-byte length, JSON header, data). Accepted files must describe tensors whose data lies
 * inside the buffer with exactly shape x dtype bytes; refusals must name the file. (This replaces
 * test-safetensors-fuzz.cpp's random mutations; its JSON tokens are in safetensors.dict.)
 */
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/safetensors.h"
#include "fuzz-target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    std::vector<st_tensor> out;
    std::map<std::string, std::string> metadata;  // __metadata__'s strings (a saved quantized folder's formats)
    try {
        st_parse_header("fuzz.safetensors", data, size, out, &metadata);
    } catch (const engine_error & e) {
        ENGINE_ASSERT(std::string(e.what()).rfind("fuzz.safetensors: ", 0) == 0);
        return 0;
    }
    for (const auto & t : out) {
        ENGINE_ASSERT(t.offset <= size && t.nbytes <= size - t.offset);
        uint64_t numel = 1;
        for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
        const uint64_t esize = t.dtype == ST_F32 ? 4 : t.dtype == ST_OTHER ? 0 : 2;
        ENGINE_ASSERT(esize == 0 || numel * esize == t.nbytes);
        if (t.dtype != ST_OTHER && numel > 0) {
            float first = 0.0f;
            st_to_f32(t.dtype, data + t.offset, &first, 1);  // reads the first element: inside the buffer (ASan checks)
        }
    }
    return 0;
}
