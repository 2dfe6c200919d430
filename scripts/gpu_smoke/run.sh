#!/usr/bin/env bash
# The GPU smoke run on the device machine: train with LoRA, export, load the merged model.
#
#   OUT=DIR bash run.sh single   one GPU: train, export, check
#   OUT=DIR bash run.sh multi    two "nodes" of one GPU each, as the Indexed Job's pods,
#                                export and check the adapter they wrote; then one pod
#                                of two GPUs (FORCE_TORCHRUN, NPROC_PER_NODE)
#
# Beside this folder: whl/ (the wheels the image lacks) and rendered/ (render_configs.py's
# output). Everything runs from the configs and pod settings lmfchart rendered; only
# MASTER_ADDR changes (pod 0's DNS name does not resolve outside the cluster).
set -uo pipefail
mode=${1:?usage: run.sh single|multi}
: "${OUT:?OUT must name the folder for the logs}"
here=$(cd "$(dirname "$0")" && pwd)
gpu=$(dirname "$here")
rendered=$gpu/rendered

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$gpu"/whl/*.whl || exit 1
# torchrun lives beside the image's python3; LLaMA-Factory's launcher runs it by name.
python_bin=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))')
export PYTHONPATH=/tmp/site PATH="/tmp/site/bin:$python_bin:$PATH"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Keep NVLink multicast off on the shared multi-GPU hosts.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

config_value() {  # FILE KEY
    python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

install_pod_files() {  # POD_FOLDER: its volumes as folders, its ConfigMap's files in place
    local dir
    xargs mkdir -p < "$1/mounts"
    dir=$(cat "$1/config_dir")
    mkdir -p "$dir" && cp "$1"/configmap/* "$dir"/
}

run_pod() {  # POD_FOLDER [INDEX]: the container's command with its env, from /app
    (
        export JOB_COMPLETION_INDEX=${2:-0}
        # shellcheck disable=SC1091
        source "$1/pod.env"
        # The pod sees only the GPUs it asks for: pod INDEX gets the INDEX-th group of them.
        gpus=$(cat "$1/gpus")
        first=$(( JOB_COMPLETION_INDEX * gpus ))
        export CUDA_VISIBLE_DEVICES=$(seq -s, "$first" $(( first + gpus - 1 )))
        [ -n "${2:-}" ] && export MASTER_ADDR=127.0.0.1
        # One write, so that pods started together do not interleave their lines.
        summary=$(
            echo "== $(basename "$1") pod ${2:-}"
            env | grep -E '^(FORCE_TORCHRUN|NNODES|NODE_RANK|RANK|NPROC_PER_NODE|MASTER_ADDR|MASTER_PORT|CUDA_VISIBLE_DEVICES|HF_HUB_OFFLINE)=' | sort
            echo "\$ $(cat "$1/command")"
        )
        echo "$summary" >> "$OUT/env.txt"
        mkdir -p /app && cd /app || exit 1
        timeout 300 bash -c "$(cat "$1/command")"
    )
}

{
    date -u
    nvidia-smi -L
    python3 -c 'import importlib.metadata as m; print(*(f"{p} {m.version(p)}" for p in
        ["torch", "transformers", "tokenizers", "peft", "accelerate", "datasets", "trl",
         "llamafactory"]), sep="\n")'
    command -v llamafactory-cli torchrun
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

train=$rendered/train
[ "$mode" = multi ] && train=$(echo "$rendered"/train-*nodes)
train_yaml=$train/configmap/train.yaml
model=$(config_value "$train_yaml" model_name_or_path)
output_dir=$(config_value "$train_yaml" output_dir)
data_file=$(python3 -c 'import json, sys; print(next(iter(json.load(open(sys.argv[1])).values()))["file_name"])' \
    "$train/configmap/dataset_info.json")
python3 "$here/make_tiny_model.py" "$model" || exit 1
python3 "$here/make_dataset.py" "$(dirname "$data_file")" --name "$(basename "$data_file" .json)" || exit 1

status=0
install_pod_files "$train"
if [ "$mode" = single ]; then
    run_pod "$train" > "$OUT/train.log" 2>&1 || status=1
    tail -n 5 "$OUT/train.log"
else
    # One process per "node", as many as the Indexed Job has pods, one GPU each.
    nodes=$(JOB_COMPLETION_INDEX=0 bash -c 'source "$1"; echo "$NNODES"' _ "$train/pod.env")
    pids=()
    for index in $(seq 0 $((nodes - 1))); do
        run_pod "$train" "$index" > "$OUT/node$index.log" 2>&1 &
        pids+=($!)
    done
    for index in "${!pids[@]}"; do
        wait "${pids[$index]}" || { echo "node $index failed"; status=1; }
    done
    tail -n 3 "$OUT"/node*.log
fi
cp "$output_dir/trainer_log.jsonl" "$OUT/" || status=1

if [ $status = 0 ]; then
    install_pod_files "$rendered/export"
    run_pod "$rendered/export" > "$OUT/export.log" 2>&1 || status=1
    tail -n 3 "$OUT/export.log"
fi
export_dir=$(config_value "$rendered/export/configmap/export.yaml" export_dir)
if [ $status = 0 ]; then
    python3 "$here/check_export.py" --base "$model" --merged "$export_dir" \
        --dataset "$data_file" --require-gpu 2>&1 | tee "$OUT/check.log" || status=1
fi
find "$model" "$(dirname "$data_file")" "$output_dir" "$export_dir" -type f \
    -printf '%10s  %p\n' 2>/dev/null | sort -k2 > "$OUT/files.txt"
if [ "$mode" = multi ] && [ $status = 0 ]; then
    wide=$(echo "$rendered"/train-*gpus)
    install_pod_files "$wide"
    run_pod "$wide" > "$OUT/gpus.log" 2>&1 || status=1
    tail -n 3 "$OUT/gpus.log"
fi
echo "run.sh $mode: exit $status"
exit $status
