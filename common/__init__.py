"""Plumbing shared by the course scripts: flags, data, device, TensorBoard and figures.

Nothing here knows about a model; the lesson stays in each script. `common.flags` and
`common.data` do not import TensorFlow, so a script's --help answers at once;
`common.runtime`, `common.tb` and `common.smoke` (stand-ins used only by --smoke) do.
"""
