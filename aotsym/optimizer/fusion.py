"""stub"""
def fuse_elementwise(fg, ctx=None):
    return fg


def fuse_reductions(fg, ctx=None):
    return fg
