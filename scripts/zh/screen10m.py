"""zh_CN translations of the screen10m branch's messages (replayed by the integrator)."""

ZH = {
    "Give the source as registry or parquet:FOLDER": "数据来源须为 registry 或 parquet:文件夹",
    "The folder holds no person and household views in Parquet": "该文件夹中没有 Parquet 格式的人口和家庭视图",
    "The Parquet view %(view)s lacks the columns %(columns)s": "Parquet 视图 %(view)s 缺少字段 %(columns)s",
    "The spark backend needs pyspark installed (pip install pyspark) and Java 17":
        "spark 引擎需要安装 pyspark（pip install pyspark）和 Java 17",
    "Your department's grant on %(dataset)s does not cover the field %(name)s, which the policies read":
        "本部门对 %(dataset)s 的共享授权不包含政策所需字段 %(name)s",
}
