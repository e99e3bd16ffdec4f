import Foundation

@testable import InferenceEngine

/// A deliberately plain llama forward pass for checking the engine: weights decoded to Double, one position at a
/// time, plain loops, Double accumulation.
final class ReferenceTransformer {
    let config: ModelConfig
    let file: GGUFFile
    var keys: [[[Double]]]  // [layer][position][kvDim]
    var values: [[[Double]]]

    init(path: String) throws {
        file = try GGUFFile(path: path)
        config = try ModelConfig.read(from: file)
        keys = Array(repeating: [], count: config.layerCount)
        values = Array(repeating: [], count: config.layerCount)
    }

    func tensor(_ name: String) -> [Double] {
        let info = file.tensors[name]!
        return QuantizedBlocks.decode(info.type, from: file.data(of: info), count: info.elementCount).map(Double.init)
    }

    /// y[r] = sum_c W[r][c] x[c], W stored row-major with `columns` per row.
    func matvec(_ w: [Double], _ x: [Double]) -> [Double] {
        let columns = x.count
        let rows = w.count / columns
        var y = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            var s = 0.0
            for c in 0..<columns { s += w[r * columns + c] * x[c] }
            y[r] = s
        }
        return y
    }

    func rmsNorm(_ x: [Double], _ weight: [Double]) -> [Double] {
        var ss = 0.0
        for v in x { ss += v * v }
        let scale = 1 / (ss / Double(x.count) + Double(config.normEpsilon)).squareRoot()
        return (0..<x.count).map { x[$0] * scale * weight[$0] }
    }

    func rope(_ x: inout [Double], heads: Int, position: Int) {
        let hd = config.headDimension
        for h in 0..<heads {
            for p in 0..<(config.ropeDimension / 2) {
                let theta =
                    Double(position) * pow(Double(config.ropeBase), -2 * Double(p) / Double(config.ropeDimension))
                let a = x[h * hd + 2 * p]
                let b = x[h * hd + 2 * p + 1]
                x[h * hd + 2 * p] = a * cos(theta) - b * sin(theta)
                x[h * hd + 2 * p + 1] = a * sin(theta) + b * cos(theta)
            }
        }
    }

    /// Processes one token at the next position and returns its logits.
    func step(_ token: Int32) -> [Double] {
        let out = finalHidden(token)
        let embedding = tensor("token_embd.weight")
        let outputWeights = file.tensors["output.weight"] != nil ? tensor("output.weight") : embedding
        return matvec(outputWeights, out)
    }

    /// Processes one token at the next position and returns its last hidden state after the final RMS norm.
    func finalHidden(_ token: Int32) -> [Double] {
        let c = config
        let e = c.embeddingLength
        let hd = c.headDimension
        let embedding = tensor("token_embd.weight")
        var x = Array(embedding[Int(token) * e..<(Int(token) + 1) * e])
        let position = keys[0].count
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            let h = rmsNorm(x, tensor(p + "attn_norm.weight"))
            var q = matvec(tensor(p + "attn_q.weight"), h)
            var k = matvec(tensor(p + "attn_k.weight"), h)
            let v = matvec(tensor(p + "attn_v.weight"), h)
            rope(&q, heads: c.headCount, position: position)
            rope(&k, heads: c.kvHeadCount, position: position)
            keys[l].append(k)
            values[l].append(v)
            var attended = [Double](repeating: 0, count: c.queryDimension)
            for head in 0..<c.headCount {
                let kv = head / (c.headCount / c.kvHeadCount)
                var scores: [Double] = []
                for t in 0...position {
                    var s = 0.0
                    for d in 0..<hd { s += q[head * hd + d] * keys[l][t][kv * hd + d] }
                    scores.append(s / Double(hd).squareRoot())
                }
                let m = scores.max()!
                let exps = scores.map { exp($0 - m) }
                let total = exps.reduce(0, +)
                for t in 0...position {
                    for d in 0..<hd { attended[head * hd + d] += exps[t] / total * values[l][t][kv * hd + d] }
                }
            }
            let o = matvec(tensor(p + "attn_output.weight"), attended)
            for i in 0..<e { x[i] += o[i] }
            let h2 = rmsNorm(x, tensor(p + "ffn_norm.weight"))
            let g = matvec(tensor(p + "ffn_gate.weight"), h2)
            let u = matvec(tensor(p + "ffn_up.weight"), h2)
            let act = (0..<g.count).map { g[$0] / (1 + exp(-g[$0])) * u[$0] }
            let d = matvec(tensor(p + "ffn_down.weight"), act)
            for i in 0..<e { x[i] += d[i] }
        }
        return rmsNorm(x, tensor("output_norm.weight"))
    }

    static func argmax(_ v: [Double]) -> Int32 {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return Int32(best)
    }
}
