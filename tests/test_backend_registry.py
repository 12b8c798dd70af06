"""The backend registry: one module per backend, found without importing heavy dependencies; configs
validated as a union on ``kind`` with clear errors; cache keys, resources, concurrency, overrides and
docs/backends.md derived from it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends import (
    BackendError,
    LLMBackend,
    backend_kinds,
    backend_overrides,
    create_backend,
    get_backend,
    get_concurrent_backend,
    resolve_backend,
    resources,
    validate_backend_config,
)
from backends.base import SAMPLING_FIELDS, BackendRegistration
from backends.batching import MicroBatchingBackend
from backends.fake import FakeBackend, FakeConfig
from backends.llamacpp import LlamaCppConfig
from backends.openai_compat import OpenAIConfig
from backends.registry import PACKAGE_DIR, REGISTRY, discover
from backends.vllm_inprocess import VLLMConfig
from core.errors import InputError
from pipelines.spec import load_pipeline_spec

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent


def test_kinds_are_the_modules_that_declare_a_backend() -> None:
    declared = {
        p.stem for p in PACKAGE_DIR.glob("*.py") if "\nBACKEND = BackendRegistration(" in p.read_text()
    }
    assert {REGISTRY[k].config.__module__.rsplit(".", 1)[1] for k in backend_kinds()} == declared
    assert backend_kinds() == sorted(backend_kinds())
    assert {"llamacpp", "openai", "vllm", "fake", "langchain"} <= set(backend_kinds())


def test_importing_backends_loads_no_heavy_dependency() -> None:
    """Discovery reads module sources; backend modules import llama_cpp, vllm and langchain lazily."""
    code = (
        "import sys, backends\n"
        "heavy = ('llama_cpp', 'vllm', 'langchain', 'langchain_core', 'langchain_openai', 'torch')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_new_backend_is_one_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery finds a module that declares BACKEND and never imports one that does not."""
    package = tmp_path / "more_backends"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("raise RuntimeError('a helper module must not be imported')\n")
    (package / "echo.py").write_text(
        textwrap.dedent(
            """
            from typing import Literal

            from pydantic import Field

            from backends.base import BackendRegistration, BaseBackendConfig, Completion, LLMBackend


            class EchoConfig(BaseBackendConfig):
                kind: Literal["echo"] = Field("echo")
                prefix: str = ""


            class EchoBackend(LLMBackend):
                kind = "echo"

                @property
                def model_name(self) -> str:
                    return "echo"

                def _complete(self, messages, json_schema, params):
                    text = self.config.prefix + messages[-1]["content"]
                    return Completion(text, 1, 1, 0.0, "echo", "echo")


            BACKEND = BackendRegistration(EchoConfig, EchoBackend, "Says it back.")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover(package, "more_backends")
    assert list(found) == ["echo"] and "more_backends.helper" not in sys.modules
    config = found["echo"].config(prefix="> ")
    assert found["echo"].factory(config).complete([{"role": "user", "content": "hi"}]).text == "> hi"


def test_registration_checks_the_config_model() -> None:
    from pydantic import BaseModel, ConfigDict

    class Loose(FakeConfig):
        model_config = ConfigDict(extra="allow")

    class NoLiteral(BaseModel):
        model_config = ConfigDict(extra="forbid")
        kind: str = "x"

    with pytest.raises(TypeError, match="forbid extra fields"):
        BackendRegistration(Loose, FakeBackend, "loose")
    with pytest.raises(TypeError, match="Literal"):
        BackendRegistration(NoLiteral, FakeBackend, "no literal")  # type: ignore[arg-type]


def test_validation_picks_the_kinds_model_and_defaults_to_llamacpp() -> None:
    assert type(validate_backend_config({})) is LlamaCppConfig
    assert type(validate_backend_config({"temperature": 0.2})) is LlamaCppConfig
    config = validate_backend_config({"kind": "openai", "base_url": "http://h/v1", "concurrency": 8})
    assert isinstance(config, OpenAIConfig) and (config.base_url, config.concurrency) == ("http://h/v1", 8)
    assert validate_backend_config(config) is config


def test_validation_errors_name_the_choices_and_the_right_backend() -> None:
    with pytest.raises(
        InputError, match=r"kind: unknown backend 'gpt'; valid choices: \['fake', 'langchain'"
    ):
        validate_backend_config({"kind": "gpt"})
    with pytest.raises(InputError) as caught:
        validate_backend_config(
            {"kind": "openai", "n_threads": 4, "tempreture": 1, "max_tokens": 1}, source="p.yaml"
        )
    message = str(caught.value)
    assert message.startswith("p.yaml: invalid configuration:")
    assert "n_threads: not a setting of backend 'openai'; accepted by: llamacpp" in message
    assert (
        "tempreture: unknown field for backend 'openai' (check its spelling); valid fields: kind," in message
    )
    assert "\n  max_tokens: Input should be greater than or equal to 16" in message  # no tag in the path
    with pytest.raises(
        InputError, match="gpu_memory_utilization: not a setting of backend 'llamacpp'; accepted"
    ):
        validate_backend_config({"gpu_memory_utilization": 0.5})


def test_pipeline_yaml_errors_point_at_the_backend_field(tmp_path: Path) -> None:
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("  max_tokens: 700", "  max_tokens: 700\n  base_url: http://x/v1"))
    with pytest.raises(
        InputError, match=r"p\.yaml: invalid configuration:\n  backend\.base_url: not a setting"
    ):
        load_pipeline_spec(path)


def _pipeline_files() -> list[Path]:
    files = []
    for folder in ("pipelines", "examples", "tests", "evals", "bench"):
        for path in sorted((ROOT / folder).rglob("*.y*ml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                continue
            if isinstance(data, dict) and "steps" in data and "name" in data:
                files.append(path)
    return files


def test_every_shipped_pipeline_backend_section_loads() -> None:
    files = _pipeline_files()
    assert ROOT / "pipelines" / "default.yaml" in files
    for path in files:
        spec, _ = load_pipeline_spec(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8")).get("backend") or {}
        assert spec.backend.kind == data.get("kind", "llamacpp"), path
        assert spec.backend.model_dump(include=set(data)) == data, path


def _another_value(prop: dict[str, Any], current: Any) -> Any:
    """A valid value other than ``current`` for a field, from its JSON schema."""
    options = prop.get("anyOf", [prop])
    for option in options:
        if "enum" in option:
            return next(v for v in option["enum"] if v != current)
        kind = option.get("type")
        if kind == "boolean":
            return not current
        if kind == "string":
            return "other"
        if kind in ("integer", "number"):
            low = option.get("minimum", option.get("exclusiveMinimum", 0))
            high = option.get("maximum", option.get("exclusiveMaximum", low + 2))
            value = low + 1 if kind == "integer" else (low + high) / 2
            return value if value != current else value + 1
    raise AssertionError(f"no other value for {prop}")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_cache_key_is_every_field_but_the_sampling_ones(kind: str) -> None:
    model = REGISTRY[kind].config
    base = model()
    props = model.model_json_schema()["properties"]
    for name in model.model_fields:
        if name == "kind":
            continue
        value = _another_value(props[name], getattr(base, name))
        if kind == "langchain" and name == "model":
            value = "openai:another-model"  # '<provider>:<model>'
        changed = model(**{name: value})
        same = changed.cache_key() == base.cache_key()
        assert same == (name in SAMPLING_FIELDS), f"{kind}.{name}"


def test_shared_backends_follow_the_cache_key() -> None:
    assert get_backend(FakeConfig()) is get_backend(FakeConfig(temperature=0.9, seed=3))
    assert get_backend(FakeConfig()) is not get_backend(FakeConfig(concurrency=2))


def test_create_backend_refuses_a_config_that_is_not_its_kinds() -> None:
    with pytest.raises(BackendError, match="no backend for a FakeConfig of kind 'openai'"):
        create_backend(FakeConfig.model_construct(kind="openai"))  # type: ignore[arg-type]
    with pytest.raises(BackendError, match=r"of kind 'nope'; valid choices: \['fake'"):
        create_backend(FakeConfig.model_construct(kind="nope"))  # type: ignore[arg-type]


def test_resources_for_ray_workers() -> None:
    assert resources(LlamaCppConfig()) == {"num_cpus": 1}
    assert resources(OpenAIConfig(base_url="http://h/v1")) == {"num_cpus": 1}
    assert resources(VLLMConfig(model="m")) == {"num_cpus": 1, "num_gpus": 1}
    assert resources(VLLMConfig(model="m", tensor_parallel_size=4)) == {"num_cpus": 1, "num_gpus": 4}


def test_max_concurrency_per_backend() -> None:
    """No model is loaded: backends are created, never warmed up."""
    assert create_backend(LlamaCppConfig()).max_concurrency == 1
    assert create_backend(OpenAIConfig(base_url="http://h/v1", concurrency=12)).max_concurrency == 12
    assert create_backend(FakeConfig()).max_concurrency == 1
    assert create_backend(FakeConfig(concurrency=5)).max_concurrency == 5
    assert create_backend(VLLMConfig(model="m")).max_concurrency == 32
    inner = create_backend(FakeConfig(concurrency=3))
    assert MicroBatchingBackend(inner).max_concurrency == 3  # a wrapper serves what it wraps


def test_concurrent_backend_micro_batches_only_in_process_engines() -> None:
    vllm = get_concurrent_backend(VLLMConfig(model="some/model", concurrency=6))
    assert isinstance(vllm, MicroBatchingBackend) and vllm.max_batch == 6 and vllm.max_concurrency == 6
    assert get_concurrent_backend(VLLMConfig(model="some/model", concurrency=6)) is vllm
    fake = FakeConfig(concurrency=2)
    assert get_concurrent_backend(fake) is get_backend(fake)


# --- overrides: env vars, then CLI / API ----------------------------------------------------------


def test_a_new_kind_drops_what_was_written_for_the_old_one() -> None:
    yaml_cfg = OpenAIConfig(base_url="http://h/v1", model="served", timeout_s=30, temperature=0.1)
    cfg = resolve_backend(yaml_cfg, {"kind": "fake"}, environ={})
    assert isinstance(cfg, FakeConfig) and cfg.temperature == 0.1 and cfg.model is None
    same = resolve_backend(yaml_cfg, {"kind": "openai", "concurrency": 9}, environ={})
    assert isinstance(same, OpenAIConfig) and (same.model, same.concurrency, same.timeout_s) == (
        "served",
        9,
        30,
    )


def test_an_explicit_override_the_kind_does_not_take_is_an_error() -> None:
    with pytest.raises(
        InputError, match=r"override base_url sets backend\.base_url, which backend 'fake' does not"
    ):
        resolve_backend(LlamaCppConfig(), {"kind": "fake", "base_url": "http://h/v1"}, environ={})
    with pytest.raises(InputError, match=r"\(accepted by: langchain, openai\)"):
        resolve_backend(LlamaCppConfig(), {"base_url": "http://h/v1"}, environ={})


def test_env_vars_layer_under_explicit_overrides() -> None:
    env = {"BRANDFORGE_BACKEND": "openai", "BRANDFORGE_BASE_URL": "http://env/v1", "BRANDFORGE_MODEL": "m"}
    cfg = resolve_backend(LlamaCppConfig(model="/x.gguf", n_threads=2), {}, environ=env)
    assert isinstance(cfg, OpenAIConfig) and (cfg.base_url, cfg.model) == ("http://env/v1", "m")
    # --backend fake on top: the env's openai settings are dropped, not an error (a dry run)
    assert isinstance(resolve_backend(LlamaCppConfig(), {"kind": "fake"}, environ=env), FakeConfig)
    # an env var alone that the pipeline's backend does not take is ignored (a shell set up for a server)
    ignored = resolve_backend(LlamaCppConfig(), {}, environ={"BRANDFORGE_BASE_URL": "http://env/v1"})
    assert isinstance(ignored, LlamaCppConfig)
    # the same value given explicitly is an error naming where it came from
    with pytest.raises(
        InputError, match=r"override base_url sets backend\.base_url, which backend 'llamacpp'"
    ):
        resolve_backend(LlamaCppConfig(), {"base_url": "http://env/v1"}, environ={})
    with pytest.raises(InputError, match=r"BRANDFORGE_BACKEND: unknown backend 'gpt'; valid choices: \["):
        resolve_backend(LlamaCppConfig(), {}, environ={"BRANDFORGE_BACKEND": "gpt"})
    with pytest.raises(InputError, match=r"override kind: unknown backend 'gpt'"):
        resolve_backend(LlamaCppConfig(), {"kind": "gpt"}, environ={})


def test_overrides_from_api_values() -> None:
    assert backend_overrides(None) == {} and backend_overrides("fake") == {"kind": "fake"}
    # a config's kind counts even when it was its default (not "set")
    assert backend_overrides(FakeConfig(delay_s=0.5)) == {"kind": "fake", "delay_s": 0.5}
    cfg = resolve_backend(LlamaCppConfig(), backend_overrides(FakeConfig(delay_s=0.5)), environ={})
    assert isinstance(cfg, FakeConfig) and cfg.delay_s == 0.5
    with pytest.raises(InputError, match="max_tokens"):
        resolve_backend(LlamaCppConfig(), {"max_tokens": 1}, environ={})


def test_docs_page_is_current() -> None:
    from backends.docs import DOC_PATH, REGENERATE, render

    assert DOC_PATH.is_file(), f"{DOC_PATH} is missing; write it with: {REGENERATE}"
    assert DOC_PATH.read_text(encoding="utf-8") == render(), f"docs/backends.md is stale; run: {REGENERATE}"
    page = render()
    for kind, entry in REGISTRY.items():
        assert f"## {kind}\n" in page
        for name in entry.config.model_fields:
            assert f"| `{name}` |" in page or name == "kind"


def test_backends_satisfy_the_interface() -> None:
    for kind, entry in REGISTRY.items():
        assert (
            issubclass(entry.factory, LLMBackend)
            if isinstance(entry.factory, type)
            else callable(entry.factory)
        )
        assert entry.description.strip(), kind
