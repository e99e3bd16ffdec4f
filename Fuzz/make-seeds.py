#!/usr/bin/env python3
"""Writes the generated seed inputs in Corpus/ (SSE streams, request bodies, GGUF headers).
The scenario seeds are YAML files written by hand or copied from scenarios/. Run from Fuzz/."""
import json
import struct


def chunk(content=None, role=None, finish=None, usage=None, choices=True):
    delta = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    obj = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    obj["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []
    if usage:
        obj["usage"] = usage
    return json.dumps(obj, separators=(",", ":"))


def sse(events, nl="\n"):
    return "".join(f"data: {e}{nl}{nl}" for e in events)


# SSE: the first byte seeds where the harness cuts the stream; the rest is the response body.
normal = sse([chunk("", role="assistant"), chunk("Hello"), chunk(" world"), chunk(finish="stop"),
              chunk(choices=False, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}), "[DONE]"])
seeds = {
    "normal": b"\x01" + normal.encode(),
    "crlf": b"\x07" + sse([chunk("a"), chunk("b"), "[DONE]"], "\r\n").encode(),
    "ping": b"\x03" + (": ping\n\n" + sse([chunk("a")]) + ": ping\n\n" + sse([chunk(finish="length"), "[DONE]"])).encode(),
    "empty-choices": b"\x05" + sse([chunk(choices=False), chunk(choices=False), chunk("x"), "[DONE]"]).encode(),
    "multiline-id": b"\x09" + ("id: 7\nevent: message\ndata: {\"choices\":[{\"delta\":\ndata: {\"content\":\"hi\"}}]}\nretry: 10\n\n").encode(),
    "error-event": b"\x0b" + ("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":529}}\n\n").encode(),
    "error-object": b"\x0d" + sse([chunk("a"), json.dumps({"error": {"message": "boom", "type": "server_error", "code": "500"}})]).encode(),
    "malformed": b"\x11" + sse([chunk("a"), '{"choices":[{"delta":']).encode(),
    "escapes": b"\x13" + sse([chunk("tab\t\"q\" \\ \u00e9 \U0001F600 \u2028"), '{"choices":[{"delta":{"content":"\\ud83d\\ude00\\u0041\\n"}}]}', "[DONE]"]).encode(),
    "invalid-utf8": b"\x17" + b'data: {"choices":[{"delta":{"content":"\xff\xfe ok"}}]}\n\n' + b"data: [DONE]\n\n",
    "multi-token": b"\x19" + sse([chunk("a b c d"), chunk("e f g h"), chunk(finish="stop"), chunk(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 8})]).encode(),
}


# Anthropic's Messages stream (event names and shapes from its streaming reference); the first
# byte's top bit picks the Anthropic dialect in the harness.
def anthropic(events, nl="\n"):
    return "".join(f"event: {name}{nl}data: {json.dumps(obj, separators=(',', ':'))}{nl}{nl}" for name, obj in events)


def block_delta(index, kind, field, text):
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": kind, field: text}})


message_start = ("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                 "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}})
ping = ("ping", {"type": "ping"})
message_stop = ("message_stop", {"type": "message_stop"})


def message_delta(reason, tokens):
    return ("message_delta", {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None}, "usage": {"output_tokens": tokens}})


def block(index, content_block):
    return ("content_block_start", {"type": "content_block_start", "index": index, "content_block": content_block})


def stop(index):
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


seeds.update({
    "anthropic-text": b"\x81" + anthropic([message_start, ping, block(0, {"type": "text", "text": ""}),
                                           block_delta(0, "text_delta", "text", "Hello"), block_delta(0, "text_delta", "text", " world"),
                                           stop(0), message_delta("end_turn", 2), message_stop]).encode(),
    "anthropic-thinking": b"\x83" + anthropic([message_start, block(0, {"type": "thinking", "thinking": ""}),
                                               block_delta(0, "thinking_delta", "thinking", "hmm"), block_delta(0, "signature_delta", "signature", "c2ln"),
                                               stop(0), block(1, {"type": "text", "text": ""}), block_delta(1, "text_delta", "text", "yes"),
                                               stop(1), message_delta("end_turn", 2), message_stop], "\r\n").encode(),
    "anthropic-tool-use": b"\x85" + anthropic([message_start, block(0, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
                                               block_delta(0, "input_json_delta", "partial_json", "{\"city\": \""),
                                               block_delta(0, "input_json_delta", "partial_json", "Paris\"}"),
                                               stop(0), message_delta("tool_use", 3), message_stop]).encode(),
    "anthropic-error": b"\x87" + anthropic([message_start, block(0, {"type": "text", "text": ""}), block_delta(0, "text_delta", "text", "a"),
                                            ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]).encode(),
})
# The other dialects' recorded streams, from the client's test fixtures (each written from its API's
# reference); the first byte picks the dialect (see dialect(for:) in the harness).
for fixture, first in [("responses_stream_reasoning.sse", 0x21), ("responses_stream_tool_call.sse", 0x23),
                       ("responses_stream_failed.sse", 0x25), ("llamacpp_stream.sse", 0x41),
                       ("llamacpp_stream_error.sse", 0x43), ("tgi_stream.sse", 0x61), ("tgi_stream_error.sse", 0x63),
                       ("ollama_chat_thinking.ndjson", 0xa1), ("ollama_chat_tool_call.ndjson", 0xa3),
                       ("ollama_generate_stream.ndjson", 0xa5), ("ollama_chat_error.ndjson", 0xa7)]:
    body = open(f"../Tests/LLMPerfClientTests/Fixtures/{fixture}", "rb").read()
    seeds[fixture.rsplit(".", 1)[0].replace("_", "-")] = bytes([first]) + body
for name, data in seeds.items():
    open(f"Corpus/FuzzSSEStream/{name}", "wb").write(data)

# Request bodies for every endpoint the decoder reads.
bodies = {
    "chat": {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": True, "stream_options": {"include_usage": True}},
    "chat-full": {"model": "m", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "assistant", "content": None}],
                  "max_completion_tokens": 4, "temperature": 0.5, "top_p": 0.9, "seed": -3, "n": 1, "stop": ["\n", "END"], "ignore_eos": True, "user": "u", "logprobs": False},
    "completion": {"model": "m", "prompt": "once upon", "max_tokens": 3, "temperature": 0, "stop": "."},
    "completion-list": {"model": "m", "prompt": ["a"], "max_tokens": 1},
    "token-ids": {"model": "m", "prompt": [1, 2, 3]},
    "bad-types": {"model": 3, "messages": "hi", "max_tokens": 1.5, "temperature": "hot"},
    "limits": {"model": "m", "messages": [{"role": "tool", "content": "x"}], "max_tokens": 0, "top_p": 2, "stop": ["a", "b", "c", "d", "e"]},
    # Anthropic's Messages API (POST /v1/messages)
    "messages": {"model": "m", "max_tokens": 16, "system": "be brief", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    "messages-full": {"model": "m", "max_tokens": 2048, "system": [{"type": "text", "text": "s"}],
                      "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}, {"role": "assistant", "content": "b"}],
                      "temperature": 1, "top_p": 0.5, "stop_sequences": ["x", "y", "z", "w", "v"],
                      "thinking": {"type": "enabled", "budget_tokens": 1024},
                      "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}], "tool_choice": {"type": "tool", "name": "get_weather"}},
    "messages-limits": {"model": "m", "max_tokens": 1024, "messages": [{"role": "system", "content": "x"}], "temperature": 1.5,
                        "thinking": {"type": "enabled", "budget_tokens": 1024}, "tool_choice": {"type": "tool", "name": "nope"}},
    # OpenAI's Responses API (POST /v1/responses)
    "responses": {"model": "m", "input": "hi", "max_output_tokens": 16, "stream": True},
    "responses-full": {"model": "m", "instructions": "be brief", "input": [{"role": "user", "content": [{"type": "input_text", "text": "a"}]},
                       {"type": "message", "role": "assistant", "content": "b"}, {"type": "function_call_output", "call_id": "c", "output": "x"}],
                       "temperature": 0.2, "top_p": 1, "reasoning": {"effort": "low", "summary": "auto"}, "store": False,
                       "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}], "tool_choice": {"type": "function", "name": "f"}},
    # OpenAI's Embeddings API (POST /v1/embeddings)
    "embeddings": {"model": "m", "input": "hello world"},
    "embeddings-full": {"model": "m", "input": ["a", "b c"], "encoding_format": "base64", "dimensions": 8, "user": "u"},
    "embeddings-tokens": {"model": "m", "input": [[1, 2, 3], [4]], "encoding_format": "float"},
    "embeddings-bad": {"model": "m", "input": [[1, "x"], [], -1, 2.5, None], "encoding_format": "int8", "dimensions": 0},
}
for name, body in bodies.items():
    open(f"Corpus/FuzzRequestDecoder/{name}.json", "w").write(json.dumps(body))
open("Corpus/FuzzRequestDecoder/not-object.json", "w").write('[1, {"model": "m"}]')
open("Corpus/FuzzRequestDecoder/truncated.json", "w").write('{"model":"m","messages":[{"role":"us')


# GGUF headers (little-endian): metadata of each value type and a few tensor infos.
def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, payload):
    return s(key) + struct.pack("<I", typ) + payload


def gguf(version=3, kvs=(), tensors=(), pad=True, wide=True):
    cnt = (lambda n: struct.pack("<Q", n)) if wide else (lambda n: struct.pack("<I", n))
    out = b"GGUF" + struct.pack("<I", version) + cnt(len(tensors)) + cnt(len(kvs))
    for k in kvs:
        out += k
    for name, dims, typ, off in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", typ, off)
    if pad:
        out += b"\0" * ((-len(out)) % 32)
        out += b"\0" * 256
    return out


kvs = [kv("general.architecture", 8, s("llama")), kv("general.name", 8, s("tiny")),
       kv("llama.block_count", 4, struct.pack("<I", 1)), kv("llama.context_length", 4, struct.pack("<I", 64)),
       kv("llama.rope.freq_base", 6, struct.pack("<f", 10000.0)), kv("general.alignment", 4, struct.pack("<I", 32)),
       kv("flag", 7, b"\x01"), kv("i8", 1, b"\xff"), kv("u16", 2, b"\x01\x00"), kv("i64", 11, struct.pack("<q", -5)),
       kv("f64", 12, struct.pack("<d", 0.5)),
       kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 3) + s("a") + s("b") + s("<s>")),
       kv("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0, -1, -2))]
open("Corpus/FuzzGGUFHeader/metadata-and-tensors.gguf", "wb").write(
    gguf(kvs=kvs, tensors=[("token_embd.weight", [8, 3], 0, 0), ("output_norm.weight", [8], 0, 96)]))
open("Corpus/FuzzGGUFHeader/empty-v3.gguf", "wb").write(gguf())
open("Corpus/FuzzGGUFHeader/v1-narrow-counts.gguf", "wb").write(gguf(version=1, kvs=[], tensors=[], wide=False))
open("Corpus/FuzzGGUFHeader/nested-array.gguf", "wb").write(
    gguf(kvs=[kv("nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 4, 2) + struct.pack("<2I", 1, 2))]))
open("Corpus/FuzzGGUFHeader/q8-tensor.gguf", "wb").write(
    gguf(kvs=[kv("general.alignment", 4, struct.pack("<I", 64))], tensors=[("w", [32, 2], 8, 0)]))
open("Corpus/FuzzGGUFHeader/truncated.gguf", "wb").write(gguf(kvs=kvs)[:60])
