"""The C of the ops of ``aotsym/tensor/special.py`` (``Print``, sort / argsort, the special
functions): it compiles without warnings at -Wall -Wextra -Werror, with the runtime pasted
in and apart, as ``test_emit_c_quality`` checks for the representative graphs."""


import aotsym.tensor as T
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program
from aotsym.printing import Print
from emit_helpers import compile_strictly


def _cases():
    x, m = T.vector("x"), T.fmatrix("m")
    cases = [("print", [x], [Print("x")(x) * 2]),
             ("print_matrix", [m], [Print("m", attrs=("shape", "__str__"))(m.T)]),
             ("sort", [x, m], [T.sort(x), T.argsort(m, axis=0), T.sort(m, axis=None),
                               T.argsort(T.cast(m, "int16")), T.sort(x > 0)]),
             ("special", [x, m], [T.gammaln(x) + T.gamma(x) + T.psi(x) + T.tri_gamma(x)
                                  + T.erfinv(x) + T.erfcinv(x),
                                  T.gammaln(m) * T.gamma(m) * T.psi(m) * T.tri_gamma(m)
                                  * T.erfinv(m) * T.erfcinv(m)])]
    return [FunctionSpec(name, lower_program(FunctionGraph(ins, outs)))
            for name, ins, outs in cases]


def test_special_ops_compile_without_warnings(tmp_path):
    specs = _cases()
    for apart in (False, True):
        emitted = emit_module(specs, profile=False, runtime_apart=apart)
        compile_strictly(emitted, tmp_path, f"special{int(apart)}")
