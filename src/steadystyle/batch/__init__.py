"""Many videos on Ray: ``steadystyle batch``.

One Ray task per video runs :func:`~steadystyle.pipeline.stylize_video` with the batch's one
:class:`~steadystyle.spec.RunSpec` — the same frame loop, sources, sinks and backends as
``steadystyle stylize`` — so each output is the file ``stylize`` would write for that input.
Ray (an optional extra, ``pip install "steadystyle[batch]"``) places the tasks on the cores (or
GPUs) of this machine or of a cluster; nothing here schedules.

- :mod:`.plan`: files, folders and globs → :class:`Job` s whose outputs mirror the input names
  under the output folder (extension ``.mp4``);
- :mod:`.settings`: :class:`BatchSettings` (the RunSpec and crf) and the description of them a
  finished output is checked against;
- :mod:`.markers`: the sidecar done-marker ``.NAME.mp4.done.json`` written after the output's
  atomic rename, with a hash of the settings (style weights, backend, method, params, controls,
  crf, max side) and of the input (size, mtime), and the output's size and mtime — a rerun skips
  a job only when all of these still match;
- :mod:`.job`: the work of one video (one bad video is a failed row; the others go on);
- :mod:`.ray_runner`: the cluster, the tasks, Ctrl-C — which cancels the running tasks (they
  abort their writers, which delete their temporaries), sweeps any temporary left beside this
  batch's outputs, and leaves every finished output and its marker as they were;
- :mod:`.report`: result rows, the progress line, the table and the JSON report.

Assumes the inputs and the output folder are on a file system every Ray worker sees (always
true on one machine); the style weights travel through Ray's object store.
"""

from .job import estimate_frames, stylize_job
from .markers import MARKER_VERSION, is_finished, job_digest, marker_path, remove_temporaries, write_marker
from .plan import INPUT_EXTENSIONS, Job, plan
from .ray_runner import INSTALL_HINT, RayOptions, connect, import_ray, run_batch
from .report import BatchResult, format_table, summary_line
from .settings import BatchSettings, check_crf, file_sha256, settings_json, style_file

__all__ = ["Job", "plan", "BatchSettings", "BatchResult", "RayOptions", "run_batch", "stylize_job", "is_finished",
           "marker_path", "job_digest", "remove_temporaries", "format_table", "import_ray", "INSTALL_HINT",
           "INPUT_EXTENSIONS", "connect", "file_sha256", "style_file", "settings_json", "summary_line", "check_crf",
           "write_marker", "estimate_frames", "MARKER_VERSION"]
