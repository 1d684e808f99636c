"""A chat client for JSON answers: OpenAI, Azure OpenAI or any OpenAI-compatible server (Ollama, vLLM).

It asks for structured output (`response_format` json_schema) and falls back to json_object for servers that
lack json_schema. Timeouts and refusals are handled here, retries with exponential backoff (honouring
Retry-After) by the openai library (llm.max_retries); callers get a ChatReply or an LLMUnavailable / LLMRefused error, never a half answer. The API key is
read from the environment variable NAMED in the workspace config and never logged or put in an error.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datatruth.errors import UserError
from datatruth.workspace.config import LLMConfig

log = logging.getLogger(__name__)

OLLAMA_URL = "http://localhost:11434/v1"
MAX_REPLY_DEPTH = 32  # a QueryPlan or SQL reply nests 4-5 levels; deeper is a broken or hostile reply
_PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key, but the client wants one


class LLMUnavailable(UserError):
    """The LLM could not be reached, was too slow, or kept failing after retries."""


class LLMRefused(UserError):
    """The LLM declined to answer."""


@dataclass(frozen=True)
class ChatRequest:
    """One JSON-answer request: instructions, the user turn, and the JSON schema the answer must follow."""

    system: str
    user: str
    schema: Mapping[str, Any]
    schema_name: str = "answer"


@dataclass(frozen=True)
class ChatReply:
    """The text the model returned, and how it was obtained."""

    content: str
    model: str
    mode: str  # json_schema | json_object
    attempts: int
    elapsed_ms: float


def _api_key(config: LLMConfig, env: Mapping[str, str]) -> str:
    key = env.get(config.api_key_env, "") if config.api_key_env else ""
    if key:
        return key
    if config.provider == "ollama" or (config.provider == "openai" and config.base_url):
        return _PLACEHOLDER_KEY
    raise LLMUnavailable(
        f"the LLM API key is not set (environment variable {config.api_key_env or '?'} is empty)",
        f"export {config.api_key_env or 'OPENAI_API_KEY'}=... or set llm.provider: none",
    )


def build_openai_client(config: LLMConfig, env: Mapping[str, str] | None = None) -> Any:
    """The `openai` client for a workspace's LLM settings; the library retries timeouts, dropped connections,
    429 and 5xx answers itself (llm.max_retries times, with exponential backoff that honours Retry-After)."""
    import openai

    env = os.environ if env is None else env
    key = _api_key(config, env)
    if config.provider == "azure":
        if not config.base_url or not config.api_version:
            raise LLMUnavailable(
                "Azure OpenAI needs llm.base_url (the endpoint) and llm.api_version",
                "e.g. base_url: https://NAME.openai.azure.com, api_version: 2024-10-21",
            )
        return openai.AzureOpenAI(
            azure_endpoint=config.base_url,
            api_version=config.api_version,
            api_key=key,
            timeout=config.timeout_s,
            max_retries=config.max_retries,
        )
    base_url = config.base_url or (OLLAMA_URL if config.provider == "ollama" else None)
    return openai.OpenAI(
        api_key=key, base_url=base_url, timeout=config.timeout_s, max_retries=config.max_retries
    )


class LLMClient:
    """Sends ChatRequests to the configured model with a timeout and the json_schema → json_object fallback;
    retries are the openai library's own."""

    def __init__(
        self, config: LLMConfig, *, env: Mapping[str, str] | None = None, client: Any = None
    ) -> None:
        if not config.enabled:
            raise LLMUnavailable("no LLM is configured for this workspace", "set llm.provider and llm.model")
        self.config = config
        self._client = client or build_openai_client(config, env)
        self._json_schema_ok = True
        self._lock = threading.Lock()

    def complete_json(self, request: ChatRequest) -> ChatReply:
        """Ask for a JSON answer; LLMUnavailable after the retries, LLMRefused when the model declines."""
        import openai

        started = time.perf_counter()
        mode = "json_schema" if self._json_schema_ok else "json_object"
        try:
            content, attempts = self._send(request, mode)
        except openai.BadRequestError as err:
            if mode != "json_schema" or not _mentions_response_format(err):
                raise LLMUnavailable(
                    f"the LLM rejected the request: {_short(err)}",
                    "check llm.model and that the server speaks the OpenAI API",
                ) from err
            # An OpenAI-compatible server without structured output: ask for plain JSON instead.
            log.info("LLM server rejected json_schema; falling back to json_object")
            with self._lock:
                self._json_schema_ok = False
            try:
                content, more = self._send(request, "json_object")
            except openai.APIError as second:
                raise _unavailable(second, self.config) from second
            return ChatReply(
                content, self.config.model, "json_object", 1 + more, (time.perf_counter() - started) * 1000
            )
        except openai.APIError as err:
            raise _unavailable(err, self.config) from err
        return ChatReply(content, self.config.model, mode, attempts, (time.perf_counter() - started) * 1000)

    def _send(self, request: ChatRequest, mode: str) -> tuple[str, int]:
        """The reply's text and how many requests the library made for it (1 + its retries)."""
        from openai.types.chat import ChatCompletion

        if mode == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": dict(request.schema), "strict": False},
            }
        else:
            response_format = {"type": "json_object"}
        raw = self._client.chat.completions.with_raw_response.create(
            model=self.config.model,
            temperature=0,
            messages=[
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            response_format=response_format,
        )
        # the library numbers its retries in a header of the request it finally sent
        retries = raw.http_request.headers.get("x-stainless-retry-count", "0")
        attempts = 1 + (int(retries) if retries.isdigit() else 0)
        completion = raw.parse()
        if not isinstance(completion, ChatCompletion):
            # A non-JSON body (a proxy's HTML error page) comes back from the library as plain text.
            raise LLMUnavailable(
                "the LLM server's reply was not an OpenAI chat completion",
                "check that llm.base_url points at an OpenAI-compatible API (often ending in /v1)",
            )
        if not completion.choices:
            raise LLMUnavailable("the LLM returned no answer", "try again, or check the model name")
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal or choice.finish_reason == "content_filter":
            raise LLMRefused(
                f"the LLM declined: {str(refusal or 'content filter')[:200]}",
                "rephrase the question in terms of the workspace's metrics",
            )
        content = choice.message.content
        if not content or not content.strip():
            raise LLMRefused("the LLM returned an empty answer", "rephrase the question")
        depth = json_depth(content)
        if depth > MAX_REPLY_DEPTH:
            # json.loads would recurse once per level (RecursionError past ~1,000); no answer is that deep.
            raise LLMUnavailable(
                f"the LLM's reply nests JSON {depth} levels deep (at most {MAX_REPLY_DEPTH} are "
                "read); it was treated as a bad reply",
                "ask again; rephrasing usually helps",
            )
        return content, attempts


def _unavailable(err: Exception, config: LLMConfig) -> LLMUnavailable:
    """The user's error for a request the library gave up on (after its retries) or could not read."""
    import openai

    tries = f"after {config.max_retries + 1} attempt(s)"
    if isinstance(err, openai.APITimeoutError):
        return LLMUnavailable(
            f"the LLM timed out {tries}",
            f"the timeout is {config.timeout_s:g} s (llm.timeout_s); try again later",
        )
    if isinstance(err, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError):
        return LLMUnavailable(
            f"the LLM failed ({type(err).__name__}) {tries}",
            f"the timeout is {config.timeout_s:g} s (llm.timeout_s); try again later",
        )
    if isinstance(err, openai.APIStatusError):  # 401/403/404 and friends: retrying would not help
        return LLMUnavailable(
            f"the LLM answered HTTP {err.status_code}: {_short(err)}",
            "check llm.base_url, llm.model and the API key variable",
        )
    return LLMUnavailable(  # e.g. a reply body that is not an OpenAI response at all
        f"the LLM server's reply was not understood: {_short(err)}",
        "check that llm.base_url points at an OpenAI-compatible API",
    )


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text, counted without parsing (strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _mentions_response_format(err: Exception) -> bool:
    text = str(getattr(err, "message", "") or err).lower()
    return "response_format" in text or "json_schema" in text


def _short(err: Exception) -> str:
    # The library's message can quote the request; only the first line, trimmed, reaches the user.
    return str(getattr(err, "message", "") or err).splitlines()[0][:200]
