"""Plumbing shared by the course scripts: flags, data, device, logging.

Nothing here knows about a model; the lesson stays in each script. Importing this
package (or `common.flags`, `common.data`) does not import TensorFlow, so `--help`
and data-file checks answer at once. `common.runtime` and `common.logs` import it.
"""
