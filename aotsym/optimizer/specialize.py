"""stub"""
from aotsym.optimizer.pattern import RuleSet
SPECIALIZE_RULES = RuleSet("specialize", [])
