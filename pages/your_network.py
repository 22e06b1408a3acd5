"""Your network: any Keras model, measured layer by layer; two architectures compared."""
import streamlit as st

from core.charts import flow as charts
from core.experiments import your_network as yn
from core.summary import format_table
from core.user_model import MAX_FILE_BYTES, ModelRefused
from core.zoo import APPLICATIONS, ARCHITECTURES, CNN, TRANSFORMERS, ZooSpec, flow_of
from pages import ui, your_network_skips as skips

CNN_DEPTHS = [8, 14, 20, 32, 44, 56, 110]
st.title("🧪 Your network")
ui.intro(
    "The topic pages build their own networks. Here you measure real architectures: a "
    "ResNet, a Transformer, an LSTM, `keras.applications` models, or a Keras model of "
    "your own. One forward and backward pass with `tf.GradientTape` gives, for every "
    "layer with weights, the back-propagated signal ‖dLoss/d layer output‖ and the "
    "gradient of its kernel. Weights are random (nothing is downloaded): this is the "
    "gradient flow at initialization, where training starts.")
controls = ui.Controls("your_network")

st.header("1. Measure one network")
SOURCES = {"zoo": "From the zoo", "upload": "Bring your own (.keras or JSON)"}
source = controls.radio("Network", "source", list(SOURCES), "zoo", horizontal=True,
                        format_func=lambda value: SOURCES.get(value, value))
table, name, spec, mlp = None, "", None, None
if source == "zoo":
    row = st.columns(3)
    architecture = controls.selectbox("Architecture", "architecture", ARCHITECTURES,
                                      "resnet", where=row[0])
    sizes = {}
    if architecture == "mlp":
        sizes["depth"] = controls.slider("Hidden layers", "depth", 1, 100, 20, where=row[1])
        sizes["width"] = controls.select_slider("Units", "width", [16, 32, 64, 128, 256],
                                                128, where=row[2])
    elif architecture in CNN:
        sizes["depth"] = controls.select_slider("Layers (6n+2)", "cnn_depth", CNN_DEPTHS,
                                                20, where=row[1])
        sizes["batch_norm"] = controls.toggle("Batch norm", "batch_norm", False,
                                              where=row[2])
    elif architecture in TRANSFORMERS:
        sizes["blocks"] = controls.slider("Encoder blocks", "blocks", 1, 24, 6, where=row[1])
        sizes["heads"] = controls.select_slider("Heads", "heads", [1, 2, 4, 8], 4,
                                                where=row[2])
    elif architecture == "lstm":
        sizes["depth"] = controls.slider("LSTM layers", "lstm_depth", 1, 8, 4, where=row[1])
    else:
        sizes["image_size"] = controls.select_slider(
            "Image size", "image_size", [32, 64, 96], 32, where=row[1])
    spec, mlp = skips.control(controls, ZooSpec(architecture=architecture, **sizes))
    name = spec.describe(mlp)
    with st.spinner(f"Building {name} in Keras and measuring every layer..."):
        try:
            table = flow_of(spec, mlp)
        except ModelRefused as error:
            st.error(str(error), icon="🚫")
else:
    ui.not_in_link("your uploaded model")
    left, right = st.columns(2)
    upload = left.file_uploader("A .keras file (model.save('model.keras'))", type=["keras"],
                                key="your_network_file")
    pasted = right.text_area("Or paste model JSON (model.to_json())", height=110,
                             key="your_network_json")
    batch = st.file_uploader("Optional: your batch as .npz, with arrays x (and y)",
                             type=["npz"], key="your_network_batch",
                             help="np.savez('batch.npz', x=x, y=y). Without it the inputs "
                                  "are N(0, 1) of the model's input shape (integers for "
                                  "embeddings) and the targets N(0, 1).")
    st.caption(f"Loaded with Keras' safe mode: no Lambda layers, no custom code. Up to "
               f"{MAX_FILE_BYTES // 2 ** 20} MB, 33 million weights and a work budget "
               "for one pass. JSON holds no weights: its layers get fresh random ones.")
    files = [f for f in (upload, batch) if f is not None]
    if any(f.size > MAX_FILE_BYTES for f in files):
        st.error(f"A file is over the limit of {MAX_FILE_BYTES // 2 ** 20} MB.", icon="🚫")
    elif upload is not None or pasted.strip():
        kind, data = ("keras", upload.getvalue()) if upload else ("json", pasted.encode())
        with st.spinner("Loading your model (safe mode) and measuring every layer..."):
            try:
                table = yn.measure_upload(kind, data, batch=batch.getvalue() if batch
                                          else None)
                name = table.attrs["model_name"]
            except ModelRefused as error:  # may quote the file: shown as plain text
                st.error("This model cannot be measured:", icon="🚫")
                st.code(str(error), language=None, wrap_lines=True)
    else:
        st.info("Upload a .keras file or paste model JSON to measure it.", icon="👆")

if table is not None:
    show = str if source == "zoo" else (lambda text: ui.as_text(text, limit=60))
    cols = st.columns(3)
    cols[0].metric("Layers with weights", len(table))
    cols[1].metric("Weights", f"{int(table['params'].sum()):,}")
    cols[2].metric("Loss", ui.format_number(table.attrs["loss"]))
    label = name if source == "zoo" else "your model"
    ui.chart(charts.flow_chart(table, f"Gradient flow of {label}"), key="chart_flow",
             filename="your_network_flow")
    blocks = yn.by_block(table)
    if len(blocks) < len(table):
        ui.chart(charts.block_chart(blocks, f"{label}, block by block"),
                 key="chart_blocks", filename="your_network_blocks")
    st.subheader("Diagnosis")
    st.markdown("\n".join(f"- {line}" for line in yn.diagnosis(table, show, spec, mlp)))
    with st.expander("How these numbers are measured"):
        from core.flow import (DEAD_DESCRIPTION, LOSS_DESCRIPTION, TRAINING_DESCRIPTION,
                               WEIGHT_DESCRIPTION)
        for text in (LOSS_DESCRIPTION, WEIGHT_DESCRIPTION, TRAINING_DESCRIPTION,
                     DEAD_DESCRIPTION):
            st.markdown(text)
    with st.expander("The table, one row per layer with weights"):
        st.dataframe(format_table(table), hide_index=True)
    ui.download_csv(table, "your_network_flow.csv", key="download_flow")
    if spec is not None:
        with st.expander("Show the Keras code for this network"):
            st.caption("Runnable code that builds the same model with the same weights "
                       "and prints the signal at every layer, as in the chart.")
            st.code(yn.keras_code(spec, mlp), language="python")

st.header("2. Two architectures side by side")
comparison = controls.selectbox("Comparison", "comparison", list(yn.COMPARISONS),
                                list(yn.COMPARISONS)[0])
if "Transformer" in comparison:
    depth = controls.select_slider("Encoder blocks", "compare_blocks", [2, 4, 6, 12], 12)
    column, names = "weight_grad_norm", ("Post-LN", "Pre-LN")
else:
    depth = controls.select_slider("Layers (6n+2)", "compare_depth", [20, 32, 56, 110], 56)
    column, names = "signal_grad_norm", ("plain CNN", "ResNet")
first, second = yn.pair(comparison, depth)
with st.spinner("Measuring both networks..."):
    tables = [flow_of(first), flow_of(second)]
left, right = ui.row(2)
both = {label: yn.by_block(t) for label, t in zip(names, tables)}
ui.chart(charts.compare_chart(both, column, comparison), key="chart_compare",
         filename=f"your_network_compare_{depth}", where=left)
other = "signal_grad_norm" if column == "weight_grad_norm" else "weight_grad_norm"
ui.chart(charts.compare_chart(both, other, comparison), key="chart_compare_other",
         filename=f"your_network_compare_other_{depth}", where=right)
st.markdown(yn.compare_story(comparison, *tables, names))
ui.download_csv(yn.combined(tables, names),
                f"your_network_compare_{depth}.csv", key="download_compare")

ui.download_all_charts("your_network")
st.info("**Takeaway.** The same multiplication that makes a deep MLP's gradient vanish "
        "runs through every architecture. Skip connections give the signal a path that "
        "is not multiplied at every layer, and where the normalization sits decides "
        "whether the gradient is even across blocks (Pre-LN) or largest at the top "
        "(Post-LN).", icon="💡")
st.caption(f"keras.applications here: {', '.join(APPLICATIONS)}, all with weights=None.")
