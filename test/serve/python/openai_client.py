"""The official openai Python client against `mst serve`: each response is re-validated with the SDK's own pydantic
models (model_validate on the raw JSON and on every stream chunk), so a field of the wrong type or a missing required
field fails here. usage: openai_client.py <base_url> <model>; prints what it got as JSON."""
import json
import sys

import openai
from openai.types import Completion, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="none", max_retries=0)
out = {}

models = client.models.list()
out["models"] = [Model.model_validate(m.model_dump()).id for m in models.data]

messages = [{"role": "system", "content": "ok ."}, {"role": "user", "content": "is 3 + 4 = 7 ?"}]
raw = client.chat.completions.with_raw_response.create(
    model=model, messages=messages, temperature=0, max_tokens=8, logprobs=True, top_logprobs=3
)
chat = ChatCompletion.model_validate(json.loads(raw.text))
choice = chat.choices[0]
out["chat"] = {
    "content": choice.message.content,
    "finish_reason": choice.finish_reason,
    "logprob_tokens": [t.token for t in choice.logprobs.content],
    "logprobs": [t.logprob for t in choice.logprobs.content],
    "top_logprobs": [[(a.token, a.logprob) for a in t.top_logprobs] for t in choice.logprobs.content],
    "usage": chat.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}),
}

text, finish, usage = "", None, None
with client.chat.completions.create(
    model=model, messages=messages, temperature=0, max_tokens=8, stream=True, stream_options={"include_usage": True}
) as stream:
    for chunk in stream:
        c = ChatCompletionChunk.model_validate(chunk.model_dump())
        if c.usage:
            usage = c.usage.completion_tokens
        for ch in c.choices:
            text += ch.delta.content or ""
            finish = ch.finish_reason or finish
out["chat_stream"] = {"content": text, "finish_reason": finish, "completion_tokens": usage}

raw = client.completions.with_raw_response.create(
    model=model, prompt="is 3 + 4 = 7 ?", temperature=0, max_tokens=8, logprobs=2
)
comp = Completion.model_validate(json.loads(raw.text))
c = comp.choices[0]
out["completion"] = {
    "text": c.text,
    "finish_reason": c.finish_reason,
    "tokens": c.logprobs.tokens,
    "token_logprobs": c.logprobs.token_logprobs,
    "top_logprobs": c.logprobs.top_logprobs,
    "text_offset": c.logprobs.text_offset,
}

text, finish = "", None
for chunk in client.completions.create(model=model, prompt="is 3 + 4 = 7 ?", temperature=0, max_tokens=8, stream=True):
    # OpenAI itself streams completion chunks with finish_reason null, which the SDK's Completion type does not
    # allow: the SDK builds chunks without validation, so they are read as it reads them
    assert chunk.object == "text_completion", chunk.object
    ch = chunk.choices[0]
    text += ch.text
    finish = ch.finish_reason or finish
out["completion_stream"] = {"text": text, "finish_reason": finish}

seeded = []
for _ in range(2):
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=messages, temperature=1.0, n=2, seed=7, max_tokens=5, stop=["."]
    )
    res = ChatCompletion.model_validate(json.loads(raw.text))
    seeded.append([(c.index, c.message.content) for c in res.choices])
out["seeded"] = seeded

errors = {}
try:
    client.chat.completions.create(model="no-such-model", messages=messages)
except openai.NotFoundError as e:
    errors["unknown_model"] = [e.status_code, e.body.get("message") if isinstance(e.body, dict) else str(e.body)]
try:
    client.chat.completions.create(model=model, messages=messages, temperature=5)
except openai.BadRequestError as e:
    errors["bad_temperature"] = [e.status_code, e.body.get("param") if isinstance(e.body, dict) else None]
out["errors"] = errors
print(json.dumps(out))
