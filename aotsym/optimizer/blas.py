"""stub"""
from aotsym.optimizer.pattern import RuleSet
BLAS_RULES = RuleSet("blas", [])
