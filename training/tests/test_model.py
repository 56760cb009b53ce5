"""Unit tests of the network shapes, SAB memory semantics and loss building blocks (fast, CPU).

  /usr/bin/python3 -m unittest discover -s training/tests
"""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from navdepth.losses import compute_losses, valid_pixel_mask, warp  # noqa: E402
from navdepth.model import DepthNet, NetConfig, PoseNet, axis_angle_to_matrix, disp_to_depth  # noqa: E402

torch.set_num_threads(1)


class ModelTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.cfg = NetConfig(width=0.25, pose_width=0.25)

    def test_depth_shapes_any_size(self):
        net = DepthNet(self.cfg).eval()
        for h, w in ((96, 128), (120, 160), (72, 100)):
            mem = net.empty_memory(2)
            with torch.no_grad():
                disps, new_mem = net(torch.rand(2, 3, h, w), mem)
            self.assertEqual(len(disps), 4)
            for s, d in enumerate(disps):
                self.assertEqual(d.shape[:2], (2, 1))
                self.assertTrue(torch.all((d >= 0) & (d <= 1)))
            self.assertEqual(tuple(disps[0].shape[2:]), (h, w))
            self.assertEqual(new_mem.shape, mem.shape)

    def test_memory_rolls_oldest_frame_out(self):
        net = DepthNet(self.cfg).eval()
        mem = torch.randn(1, self.cfg.memory_slots, self.cfg.memory_dim)
        img = torch.rand(1, 3, 64, 64)
        with torch.no_grad():
            _, new_mem = net(img, mem)
            tokens = net.memory_tokens(img)
        t = self.cfg.tokens_per_frame
        self.assertTrue(torch.equal(new_mem[:, :-t], mem[:, t:]))
        self.assertTrue(torch.allclose(new_mem[:, -t:], tokens, atol=1e-5))

    def test_memory_changes_the_prediction(self):
        net = DepthNet(self.cfg).eval()
        with torch.no_grad():
            net.sab.gate.fill_(1.0)
            img = torch.rand(1, 3, 64, 64)
            a, _ = net(img, net.empty_memory(1))
            b, _ = net(img, torch.randn(1, self.cfg.memory_slots, self.cfg.memory_dim) * 10)
        self.assertGreater(float((a[0] - b[0]).abs().max()), 0)

    def test_pose_output(self):
        net = PoseNet(self.cfg).eval()
        with torch.no_grad():
            aa, tr = net(torch.rand(3, 6, 96, 128))
        self.assertEqual(aa.shape, (3, 3))
        self.assertEqual(tr.shape, (3, 3))
        t = axis_angle_to_matrix(aa, tr)
        r = t[:, :3, :3]
        self.assertTrue(torch.allclose(r @ r.transpose(1, 2), torch.eye(3).expand(3, 3, 3), atol=1e-5))

    def test_depth_range(self):
        d = disp_to_depth(torch.tensor([0.0, 0.5, 1.0]), 10.0, 200.0)
        self.assertAlmostEqual(float(d[0]), 200.0, places=3)
        self.assertAlmostEqual(float(d[2]), 10.0, places=4)

    def test_identity_warp_reproduces_the_source(self):
        img = torch.rand(1, 3, 24, 32)
        k = torch.tensor([[[30.0, 0, 15.5], [0, 30.0, 11.5], [0, 0, 1]]])
        warped, in_view = warp(img, torch.full((1, 1, 24, 32), 50.0), k, torch.eye(4)[None])
        self.assertTrue(torch.allclose(warped, img, atol=1e-4))
        self.assertEqual(float(in_view[..., 1:-1, 1:-1].min()), 1.0)  # edges may round just outside

    def test_masks_and_losses(self):
        img = torch.full((1, 3, 8, 8), 0.5)
        img[:, :, 0, 0] = 0.0  # black border
        img[:, :, 1, 1] = 1.0  # specular
        m = valid_pixel_mask(img)
        self.assertEqual(float(m[0, 0, 0, 0]), 0.0)
        self.assertEqual(float(m[0, 0, 1, 1]), 0.0)
        self.assertEqual(float(m[0, 0, 4, 4]), 1.0)
        net = DepthNet(self.cfg)
        tgt = torch.rand(2, 3, 64, 64)
        disps, _ = net(tgt, net.empty_memory(2))
        k = torch.tensor([[60.0, 0, 31.5], [0, 60.0, 31.5], [0, 0, 1]]).expand(2, 3, 3)
        eye = torch.eye(4).expand(2, 4, 4)
        losses = compute_losses(tgt, [torch.rand_like(tgt)], [eye], disps, k, 10, 200, torch.full((2, 1, 64, 64), 40.0))
        for v in losses.values():
            self.assertTrue(torch.isfinite(v))
        losses["total"].backward()
        self.assertIsNotNone(net.decoder.heads[0][1].weight.grad)


if __name__ == "__main__":
    unittest.main()
