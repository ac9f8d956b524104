"""stub"""
class MemoryPlan:
    pass


def plan_memory(fg):
    pass
