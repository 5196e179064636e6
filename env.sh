export PATH=/work/main/.venv/bin:$PATH
export PYTHONPATH=/work/wt/i12-inv/backend:/work/wt/i12-inv
export VIRTUAL_ENV=/work/main/.venv
