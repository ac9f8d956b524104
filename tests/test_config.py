"""aotsym.config: sources, precedence, validation, and floatX=float32 graphs staying float32."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.config import FLAGS, Config, config


@pytest.fixture
def home(tmp_path):
    d = tmp_path / "home"
    d.mkdir()
    return d


@pytest.fixture
def project(tmp_path):
    d = tmp_path / "project"
    (d / "sub").mkdir(parents=True)
    return d


def load(home, cwd, flags=""):
    return Config().load(environ={"AOTSYM_FLAGS": flags} if flags else {}, cwd=str(cwd),
                         home=str(home))


def test_defaults_without_any_source(home, project):
    cfg = load(home, project)
    for name, (default, _, _) in FLAGS.items():
        if default is not None:
            assert getattr(cfg, name) == default
        assert cfg.source(name) == "default"
    assert cfg.cache_dir.endswith("aotsym")


def test_rc_file(home, project):
    (home / ".aotsymrc").write_text("# comment\n[global]\nfloatX = float32\ncxx = clang\n")
    cfg = load(home, project)
    assert cfg.floatX == "float32" and cfg.cxx == "clang"
    assert cfg.source("floatX") == str(home / ".aotsymrc")


def test_rc_other_sections_ignored(home, project):
    (home / ".aotsymrc").write_text("[other]\nfloatX = nonsense\n[global]\nmode = FAST_COMPILE\n")
    assert load(home, project).mode == "FAST_COMPILE"


def test_pyproject_found_from_a_subdirectory(home, project):
    (project / "pyproject.toml").write_text(
        '[tool.aotsym]\nfloatX = "float32"\nopenmp = false\nmodules = ["pkg/m.py:mod"]\n')
    cfg = load(home, project / "sub")
    assert cfg.floatX == "float32" and cfg.openmp is False
    assert "[tool.aotsym]" in cfg.source("floatX")


def test_precedence_rc_then_pyproject_then_environment(home, project):
    (home / ".aotsymrc").write_text("[global]\nfloatX = float32\nmode = FAST_COMPILE\n"
                                    "cxx = gcc\n")
    (project / "pyproject.toml").write_text('[tool.aotsym]\nmode = "DEBUG_MODE"\ncxx = "clang"\n')
    cfg = load(home, project, flags="cxx=icx")
    assert cfg.floatX == "float32"          # only in the rc file
    assert cfg.mode == "DEBUG_MODE"         # pyproject beats the rc file
    assert cfg.cxx == "icx"                 # the environment beats both
    assert cfg.source("cxx") == "AOTSYM_FLAGS"
    cfg.cxx = "tcc"                         # code beats everything
    assert cfg.cxx == "tcc" and cfg.source("cxx") == "code"


def test_environment_flags_parsing(home, project):
    cfg = load(home, project, flags=" floatX=float32 , mode=FAST_COMPILE,openmp=off,")
    assert (cfg.floatX, cfg.mode, cfg.openmp) == ("float32", "FAST_COMPILE", False)


def test_theano_mode_spellings(home, project):
    assert load(home, project, flags="mode=DebugMode").mode == "DEBUG_MODE"


@pytest.mark.parametrize("flags, words", [
    ("floatx=float32", ["unknown aotsym flag 'floatx'", "AOTSYM_FLAGS", "floatX", "mode"]),
    ("floatX=float16", ["float16", "float64, float32"]),
    ("mode=FAST", ["FAST", "FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "PROFILE_MODE"]),
    ("openmp=maybe", ["maybe", "true", "false"]),
    ("floatX", ["flag=value"]),
])
def test_bad_environment_flags_list_the_valid_ones(home, project, flags, words):
    with pytest.raises(ValueError) as info:
        load(home, project, flags=flags)
    for word in words:
        assert word in str(info.value)


def test_bad_rc_value_names_the_file(home, project):
    (home / ".aotsymrc").write_text("[global]\nmode = fast\n")
    with pytest.raises(ValueError, match=r"\.aotsymrc.*FAST_RUN"):
        load(home, project)


def test_bad_pyproject_flag_names_the_file(home, project):
    (project / "pyproject.toml").write_text('[tool.aotsym]\nfloat_x = "float32"\n')
    with pytest.raises(ValueError, match=r"pyproject.toml.*valid flags.*floatX"):
        load(home, project)


def test_assignment_is_validated():
    cfg = Config()
    with pytest.raises(ValueError, match="float64, float32"):
        cfg.floatX = "int32"
    with pytest.raises(ValueError, match="valid flags"):
        cfg.no_such_flag = 1
    with pytest.raises(AttributeError, match="valid flags"):
        cfg.no_such_flag  # noqa: B018


def test_defaults_context_resets_and_restores():
    with config.change_flags(floatX="float32", cxx="clang"):
        with config.defaults():
            assert config.floatX == "float64" and config.source("cxx") == "default"
        assert (config.floatX, config.cxx, config.source("cxx")) == ("float32", "clang", "code")


def test_change_flags_restores_value_and_source():
    before = (config.floatX, config.source("floatX"))
    with config.change_flags(floatX="float32"):
        assert config.floatX == "float32" and config.source("floatX") == "code"
    assert (config.floatX, config.source("floatX")) == before


def test_global_config_does_not_read_the_developers_home(monkeypatch, tmp_path):
    """The test suite's own isolation: a fresh Config reads HOME, which we point elsewhere."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AOTSYM_FLAGS", raising=False)
    (tmp_path / ".aotsymrc").write_text("[global]\nfloatX = float32\n")
    cfg = Config().load(cwd=str(tmp_path))
    assert cfg.floatX == "float32" and cfg.source("floatX") == str(tmp_path / ".aotsymrc")


# ---------------------------------------------------------------------------- floatX=float32


@pytest.fixture
def float32():
    with config.change_flags(floatX="float32"):
        yield


def test_float32_constructors(float32):
    assert T.matrix().dtype == "float32"
    assert T.vector("v").dtype == "float32"
    assert T.scalar().dtype == "float32"
    assert T.dmatrix().dtype == "float64"     # explicit prefixes are not affected


def test_float32_graphs_stay_float32(float32):
    x = T.matrix("x")
    for expr in [x * 2.0, x * 2, 2.0 * x + 1, x / 3, x.mean(), x.mean(axis=0), T.exp(x),
                 T.log(x), x ** 2, -x, x.sum(), x.var(), T.sigmoid(x), abs(x),
                 T.switch(x > 0, x, 0.0), T.maximum(x, 0.5), x.max(axis=1)]:
        assert expr.dtype == "float32", aotsym.printing.pprint(expr)


def test_float32_gradients_and_shared_stay_float32(float32):
    x = T.matrix("x")
    w = aotsym.shared(np.zeros(3, dtype="float32"), name="w")
    b = aotsym.shared(0.0, name="b")                # a Python float follows floatX
    assert b.dtype == "float32"
    cost = T.exp((x * w).sum(axis=1) + b).mean()
    gw, gb = aotsym.grad(cost, [w, b])
    assert gw.dtype == "float32" and gb.dtype == "float32"
    f = aotsym.function([x], cost, updates={w: w - 0.1 * gw, b: b - 0.1 * gb})
    out = f(np.ones((2, 3), dtype="float32"))
    assert out.dtype == np.float32
    assert w.get_value().dtype == np.float32 and b.get_value().dtype == np.float32


def test_float32_python_scalar_inputs_are_accepted(float32):
    s = T.scalar("s")
    f = aotsym.function([s], s * 2)
    assert f(1.5) == np.float32(3.0) and f(1.5).dtype == np.float32


# ------------------------------------------------------------------- Theano's flags


def test_theanos_flags_are_accepted_by_name_and_by_section(home, project):
    cfg = load(home, project)
    assert cfg.optimizer == "fast_run" and cfg.linker == "cvm" and cfg.allow_gc is True
    assert cfg.scan.allow_gc is False and cfg.dnn.conv.algo_fwd == "small"
    cfg.scan.allow_gc = "true"
    cfg.lib.cnmem = "0.8"
    cfg.optimizer = None                  # THEANO_FLAGS=optimizer=None, as code
    assert (cfg.scan.allow_gc, cfg.lib.cnmem, cfg.optimizer) == (True, 0.8, "None")
    with pytest.raises(ValueError, match="not a float"):
        cfg.lib.cnmem = "lots"
    with pytest.raises(AttributeError, match="no flag 'scan.nope'"):
        cfg.scan.nope
    assert cfg.compiledir == cfg.base_compiledir == cfg.cache_dir   # Theano's names of it
    cfg.base_compiledir = str(project)
    assert cfg.cache_dir == str(project)
    for spelling in ("gpu", "gpu0", "cuda", "cuda1", "CUDA0"):
        cfg.device = spelling
        assert cfg.device == "cuda"
    with pytest.raises(ValueError, match="valid values: cpu, cuda"):
        cfg.device = "tpu"
    assert "scan.allow_gc" not in repr(cfg)           # `aotsym config` lists aotsym's own


def test_change_flags_restores_dotted_flags():
    before = config.scan.allow_gc
    with aotsym.change_flags(**{"scan.allow_gc": not before, "optimizer": "fast_compile"}):
        assert config.scan.allow_gc is (not before) and config.optimizer == "fast_compile"
    assert config.scan.allow_gc is before and config.optimizer == "fast_run"


def test_theano_flags_from_the_environment(home, project):
    env = {"THEANO_FLAGS": "floatX=float32,device=cpu,lib.cnmem=0.5,no_such_flag=1,"
                           "floatX=float16,mode=FAST_COMPILE",
           "AOTSYM_FLAGS": "mode=FAST_RUN"}
    with pytest.warns(UserWarning) as record:
        cfg = Config().load(environ=env, cwd=str(project), home=str(home))
    text = " ".join(str(w.message) for w in record)
    assert "no_such_flag" in text and "float16" in text       # warned, not fatal
    assert cfg.floatX == "float32" and cfg.lib.cnmem == 0.5
    assert cfg.mode == "FAST_RUN" and cfg.source("mode") == "AOTSYM_FLAGS"   # AOTSYM_ wins
    assert cfg.source("floatX") == "THEANO_FLAGS"


def test_on_unused_input_flag_is_the_functions_default():
    x, y = T.vectors("x", "y")
    with pytest.raises(Exception, match="not used|unused"):
        aotsym.function([x, y], x * 2)
    with aotsym.change_flags(on_unused_input="ignore"):
        f = aotsym.function([x, y], x * 2)
    assert f(np.ones(2), np.ones(3)).tolist() == [2.0, 2.0]
    with aotsym.change_flags(on_unused_input="ignore"):
        with pytest.raises(Exception, match="not used|unused"):
            aotsym.function([x, y], x * 2, on_unused_input="raise")   # the argument wins


def test_nanguardmode_takes_its_defaults_from_the_flags():
    from aotsym.compile.nanguardmode import NanGuardMode
    with aotsym.change_flags(**{"NanGuardMode.big_is_error": False}):
        mode = NanGuardMode()
    assert (mode.nan_is_error, mode.inf_is_error, mode.big_is_error) == (True, True, False)
    assert NanGuardMode(big_is_error=True).big_is_error is True
