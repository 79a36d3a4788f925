"""A few training steps of every stage run through the real command, then resume."""

import json
from pathlib import Path

import pytest
import torch

from gnuradio.tokcom.metrics.evaluate import main as eval_main
from gnuradio.tokcom.models import load_bundle, mask_predict
from gnuradio.tokcom.training.fashion_mnist import DEFAULT_DIR
from gnuradio.tokcom.training.masking import packet_loss_mask, training_mask
from gnuradio.tokcom.training.train import main as train_main

needs_data = pytest.mark.skipif(not (DEFAULT_DIR / "train-images-idx3-ubyte.gz").exists(),
                                reason="Fashion-MNIST (Debian dataset-fashion-mnist) missing")


@needs_data
def test_tiny_training_runs_and_resumes(tmp_path):
    torch.set_num_threads(1)
    argv = ["--work-dir", str(tmp_path / "w"), "--preset", "tiny", "--max-steps", "3",
            "--limit-images", "60", "--budget-minutes", "1"]
    assert train_main(argv) == 0
    bundle_dir = tmp_path / "w" / "bundle"
    cfg = json.loads((bundle_dir / "config.json").read_text())
    assert cfg["notes"]["steps"] == {"tokenizer": 3, "classifier": 3, "transformer": 3}
    for name in ("tokenizer.ckpt", "classifier.ckpt", "transformer.ckpt", "tokens_train.pt"):
        assert (tmp_path / "w" / name).exists()
    ck = torch.load(tmp_path / "w" / "transformer.ckpt", weights_only=True)
    assert ck["done"] and ck["step"] == 3 and ck["optimizer"]["state"]

    # Rerunning resumes: finished stages are not trained again.
    assert train_main(argv) == 0
    again = json.loads((bundle_dir / "config.json").read_text())
    assert again["notes"]["steps"] == cfg["notes"]["steps"]

    # The evaluation command runs on the exported bundle.
    out = tmp_path / "eval.json"
    assert eval_main(["--model-dir", str(bundle_dir), "--n-images", "20", "--batch", "10",
                      "--loss-rates", "0.2", "--steps", "2", "--json-out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["n_images"] == 20 and set(res["loss"]["0.2"]) >= {"pred+label", "vq-only"}

    b = load_bundle(bundle_dir)
    h, w = b.config.transformer.grid_h, b.config.transformer.grid_w
    tok = torch.randint(0, b.config.tokenizer.n_embed, (2, h, w))
    mask = torch.rand(2, h, w) < 0.5
    filled, _ = mask_predict(b.transformer, tok, mask, torch.tensor([1, -1]), steps=2)
    assert torch.equal(filled[~mask], tok[~mask])


def test_resume_continues_from_checkpoint(tmp_path):
    from gnuradio.tokcom.training.loop import run_stage

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    calls = []

    def step(state, progress):
        calls.append(state.step)
        loss = model(torch.randn(4, 2, generator=gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    path = Path(tmp_path) / "s.ckpt"
    s1 = run_stage("s", path, model, opt, gen, 60.0, step, max_steps=2)
    # Simulate an interrupted stage: mark it unfinished and continue to 4 steps.
    ck = torch.load(path, weights_only=True)
    ck["done"] = False
    torch.save(ck, path)
    s2 = run_stage("s", path, model, opt, gen, 60.0, step, max_steps=4)
    assert s1.step == 2 and s2.step == 4 and calls == [0, 1, 2, 3]


def test_packet_masks():
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(256, generator=g)
    m = packet_loss_mask(50, 16, 16, 0.3, g, 4, perm)
    per_packet = m.view(50, -1)[:, perm].view(50, 64, 4)
    assert bool((per_packet.all(-1) | ~per_packet.any(-1)).all())  # whole packets only
    assert 0.2 < m.float().mean().item() < 0.4
    assert not packet_loss_mask(3, 16, 16, 0.0, g).any()
    tm = training_mask(64, 16, 16, g)
    assert tm.shape == (64, 16, 16) and bool(tm.view(64, -1).any(1).all())


def test_transformer_step_bf16_autocast():
    from gnuradio.tokcom.models import MaskGITConfig, MaskTransformer
    from gnuradio.tokcom.training.loop import StageState
    from gnuradio.tokcom.training.transformer_stage import TransformerTrainer

    torch.manual_seed(0)
    m = MaskTransformer(MaskGITConfig(grid_h=4, grid_w=4, codebook_size=16, nclass=3,
                                      hidden_dim=16, depth=1, heads=2, mlp_dim=32))
    tokens = torch.randint(0, 16, (20, 4, 4), dtype=torch.int16)
    labels = torch.randint(0, 3, (20,))
    tr = TransformerTrainer(m, tokens, labels, torch.Generator().manual_seed(0), batch_size=4,
                            bf16=True)
    before = m.tok_emb.weight.detach().clone()
    out = tr.step(StageState(), 0.0)
    assert torch.isfinite(torch.tensor(out["loss"]))
    assert m.tok_emb.weight.dtype == torch.float32
    assert not torch.equal(before, m.tok_emb.weight)
